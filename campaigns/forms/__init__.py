"""Forms: validation lives here and in the providers' request builders, not in views."""
