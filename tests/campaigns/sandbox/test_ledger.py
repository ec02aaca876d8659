"""The ledger's fast paths read and record exactly what the plain ones would: PushMultiple's
column-wise reading of TargetMsg, and the rendering of its hundred targets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from campaigns.sandbox import mpaas
from campaigns.sandbox.mpaas_rules import Params, Rejected, render, render_columns, render_each
from campaigns.sandbox.registry import APPS

APP = APPS["ONEX570DA89211721:test"]


def target_msgs(entries: dict[str, str]) -> mpaas.TargetMsgs:
    return mpaas._target_msgs(Params({"TaskName": "t", **entries}))


def sdk_entries(count: int, values: Any = None) -> dict[str, str]:
    entries = {}
    for n in range(1, count + 1):
        entries[f"TargetMsg.{n}.Target"] = f"user{n}"
        entries[f"TargetMsg.{n}.MsgKey"] = f"k{n}"
        entries[f"TargetMsg.{n}.TemplateKeyValue"] = json.dumps(
            values if values is not None else {"name": f"N{n}", "money": n}
        )
    return entries


@pytest.mark.parametrize(
    "entries",
    [
        sdk_entries(3),
        sdk_entries(100),
        # Not the SDK's numbering or spelling: read the long way, to the same columns.
        {k.replace("TargetMsg.2.", "TargetMsg.7."): v for k, v in sdk_entries(3).items()},
        {**sdk_entries(2), "TargetMsg.1.TemplateKeyValue": ' {"name": "padded"} '},
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": '{"name": {"nested": [1]}}'},
        {**sdk_entries(2), "TargetMsg.2.ExtendedParams": '{"a": 1}'},
        {**sdk_entries(2), "TargetMsg.1.Other": "ignored"},
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": ""},
        # Values the quick reading cannot vouch for, read the long way.
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": '{"name": "a\\"b", "money": 1}'},
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": '{"name": ":)", "money": 1}'},
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": '{"name": "{x} [y]"}'},
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": '{"name" : "spaced"}'},
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": '{"name": " lead", "n": null}'},
        {**sdk_entries(2), "TargetMsg.2.TemplateKeyValue": '{"a": true, "b": 1.5, "c": -2}'},
    ],
)
def test_target_msgs_read_column_wise_equal_the_entry_by_entry_reading(
    entries: dict[str, str],
) -> None:
    params = Params({"TaskName": "t", **entries})
    assert mpaas._target_msgs(params) == mpaas._any_target_msgs(params)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"TargetMsg.2.Target": " "}, "TargetMsg.2.Target is required"),
        ({"TargetMsg.3.MsgKey": "k" * 129}, "TargetMsg.3.MsgKey is longer"),
        ({"TargetMsg.3.MsgKey": "k1"}, "msgKey k1 is repeated"),
        ({"TargetMsg.2.TemplateKeyValue": '{"a": 1, "a": 2}'}, "duplicate key 'a'"),
        # A repeated key the quick reading's count of '":' could miss: spaced keys, and a
        # '":' inside a string making up for one.
        (
            {"TargetMsg.2.TemplateKeyValue": '{"a" :1, "a" :2, "b":"\\":"}'},
            "duplicate key 'a'",
        ),
        ({"TargetMsg.2.TemplateKeyValue": '{"a":1,"a":2,"b":":x"}'}, "duplicate key 'a'"),
        ({"TargetMsg.2.TemplateKeyValue": "[1]"}, "TargetMsg.2.TemplateKeyValue must be"),
        ({"TargetMsg.1.ExtendedParams": "{"}, "TargetMsg.1.ExtendedParams is not valid"),
        ({"TargetMsg.101.Target": "u"}, "TargetMsg.101.MsgKey is required"),
        (sdk_entries(101), "TargetMsg has 101 targets"),
    ],
)
def test_a_refused_target_msg_is_named_as_by_the_entry_by_entry_reading(
    change: dict[str, str], message: str
) -> None:
    with pytest.raises(Rejected, match=message):
        target_msgs({**sdk_entries(3), **change})


@pytest.mark.parametrize(
    "each",
    [
        [{"name": "a", "money": 1}, {"name": "b", "money": 2.5}],
        [{"name": "#money#", "money": True}],  # a later key replaces what an earlier put
        [{"money": 1, "name": "a"}, {"name": "b", "money": 2}],  # orders differ
        [{"name": {"x": 1}}, {}],
        [],
    ],
)
@pytest.mark.parametrize(
    "text", ["Hello #name#, #money# yuan", "#name##money#", "Only #name#", "plain"]
)
def test_render_each_renders_as_render_does(text: str, each: list[dict[str, Any]]) -> None:
    assert render_each(text, each) == [render(text, values) for values in each]


def test_render_columns_renders_a_title_and_a_body_as_render_does() -> None:
    each = [{"name": "a", "money": 1}, {"name": "#money#", "money": 2}]
    texts = ("Sale for #name#", "#name#, save #money#")
    assert render_columns(texts, each) == [[render(t, v) for v in each] for t in texts]
