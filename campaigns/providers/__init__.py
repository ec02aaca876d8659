"""Clients for the push providers: Alibaba Cloud mPaaS Message Push and EMAS Mobile Push.

``base`` holds the interface, errors and registry; ``signing`` the request signatures;
``transport`` the pooled HTTP clients; ``mpaas`` and ``emas`` one provider each.
"""
