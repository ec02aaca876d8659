"""Reading a campaign's results: the latest snapshot of each run, the funnel summed over
them, arrivals and opens over time, the splits, where the results stand; and its calls:
failures by code, the batch log's pages, the target lookup and the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from pytest_django import DjangoAssertNumQueries

from campaigns import call_log, results
from campaigns.campaign_timeline import timeline
from campaigns.models import AuditEvent, Campaign, CampaignRun, DeliveryStat, Dispatch
from campaigns.providers.errors import advice_for_provider
from campaigns.result_charts import line_chart, nice_ceiling, open_rate_chart
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
Run, D = CampaignRun.Status, Dispatch.Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# -- making results --------------------------------------------------------------------------


def a_run(campaign: Campaign, hours: int = 0, **fields: Any) -> CampaignRun:
    """A run due ``hours`` after T0, ended an hour later."""
    due = T0 + timedelta(hours=hours)
    values: dict[str, Any] = {
        "status": Run.COMPLETED,
        "started_at": due,
        "finished_at": due + timedelta(hours=1),
        **fields,
    }
    return CampaignRun.objects.create(campaign=campaign, due_at=due, **values)


def with_calls(
    run: CampaignRun, batches: Sequence[Sequence[str]], seq_from: int = 1, **fields: Any
) -> None:
    """Calls of ``run`` carrying these targets, sent unless ``fields`` say otherwise."""
    values: dict[str, Any] = {"status": D.SENT, "result_code": "OK", **fields}
    Dispatch.objects.bulk_create(
        Dispatch(
            run=run,
            seq=seq,
            targets=[[target, {}, {}] for target in targets],
            target_count=len(targets),
            next_attempt_at=T0,
            sent_at=run.due_at + timedelta(seconds=seq) if values["status"] == D.SENT else None,
            request_id=f"REQ-{run.pk}-{seq}",
            **values,
        )
        for seq, targets in enumerate(batches, start=seq_from)
    )
    targets = sum(len(each) for each in batches)
    done = {D.SENT: "sent", D.FAILED: "failed"}.get(values["status"])
    counts = {f"calls_{done}": F(f"calls_{done}") + len(batches)} if done else {}
    if done:
        counts[f"targets_{done}"] = F(f"targets_{done}") + targets
    CampaignRun.objects.filter(pk=run.pk).update(
        calls=F("calls") + len(batches), targets=F("targets") + targets, **counts
    )
    run.refresh_from_db()


def snapshot(run: CampaignRun, minutes: int, **counts: Any) -> DeliveryStat:
    """A snapshot of ``run`` taken ``minutes`` after T0."""
    return DeliveryStat.objects.create(
        run=run, taken_at=T0 + timedelta(minutes=minutes), step=0, **counts
    )


# -- latest snapshots and the funnel ---------------------------------------------------------


def test_latest_stats_is_each_runs_newest_snapshot_in_one_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    campaign = CampaignFactory.create()
    first, second, bare = a_run(campaign), a_run(campaign, 24), a_run(campaign, 48)
    snapshot(first, 1, arrived=10)
    newest_first = snapshot(first, 60, arrived=40)
    snapshot(second, 5, arrived=7)
    newest_second = snapshot(second, 90, arrived=9)
    with django_assert_num_queries(1):
        latest = results.latest_stats(campaign.runs.all())
    assert latest == {first.pk: newest_first, second.pk: newest_second}
    assert bare.pk not in latest
    with django_assert_num_queries(1):
        assert results.latest_stats([second]) == {second.pk: newest_second}


def test_the_funnel_sums_the_latest_snapshot_of_each_run_with_its_rates() -> None:
    campaign = CampaignFactory.create()
    first, second = a_run(campaign, targets=1000), a_run(campaign, 24, targets=1000)
    snapshot(first, 1, accepted=990, sent=900, arrived=100, opened=5)  # older: not counted
    snapshot(first, 60, accepted=990, sent=960, arrived=800, opened=200)
    snapshot(second, 90, accepted=1000, sent=1000, arrived=900, opened=250)
    a_run(campaign, 48, status=Run.SENDING, targets=500)  # no results yet: not counted

    funnel = results.funnel(results.run_results(campaign))

    assert (funnel.targets, funnel.accepted, funnel.sent) == (2000, 1990, 1960)
    assert (funnel.arrived, funnel.opened) == (1700, 450)
    steps = {step.key: step for step in funnel.steps}
    assert [step.key for step in funnel.steps] == [
        "targets",
        "accepted",
        "sent",
        "arrived",
        "opened",
    ]
    assert steps["targets"].of_previous is None
    assert steps["arrived"].of_previous == pytest.approx(1700 / 1960)
    assert steps["opened"].of_previous == pytest.approx(450 / 1700)
    assert steps["opened"].of_targets == pytest.approx(450 / 2000)
    assert funnel.open_rate == pytest.approx(450 / 1700)


def test_side_rows_show_only_what_the_provider_reported() -> None:
    campaign = CampaignFactory.create()
    run = a_run(campaign, targets=100)
    snapshot(run, 60, accepted=100, sent=90, arrived=80, opened=8, deleted=4, sms_sent=10)
    side = results.funnel(results.run_results(campaign)).side_steps
    assert [(step.key, step.count) for step in side] == [("deleted", 4), ("sms_sent", 10)]
    assert side[0].of_previous == pytest.approx(4 / 80)  # deleted of arrived
    assert side[1].of_previous == pytest.approx(10 / 90)  # SMS of sent


def test_a_funnel_with_nothing_counted_has_no_rates() -> None:
    funnel = results.Funnel()
    assert all(step.of_previous is None and step.of_targets is None for step in funnel.steps)
    assert funnel.side_steps == []
    assert funnel.open_rate is None


def test_run_results_bring_every_run_with_its_snapshots_in_one_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    campaign = CampaignFactory.create()
    old, new = a_run(campaign), a_run(campaign, 24)
    snapshot(old, 90, arrived=3, by_platform={"ios": {"sent": 3, "arrived": 3, "opened": 1}})
    snapshot(old, 1, arrived=1)
    with django_assert_num_queries(1):
        loaded = results.run_results(campaign)
        assert [each.run.pk for each in loaded] == [new.pk, old.pk]  # newest first
        assert loaded[0].snapshots == ()
        assert [each.arrived for each in loaded[1].snapshots] == [1, 3]  # oldest first
        assert loaded[1].latest is not None
        assert loaded[1].latest.by_platform["ios"]["opened"] == 1
        assert loaded[1].run.campaign is campaign


# -- over time -------------------------------------------------------------------------------


def test_the_series_adds_each_runs_latest_snapshot_at_every_moment(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    campaign = CampaignFactory.create()
    first, second = a_run(campaign), a_run(campaign, 24)
    snapshot(first, 1, arrived=10, opened=1)
    snapshot(second, 5, arrived=20, opened=2)
    snapshot(first, 15, arrived=30, opened=6)
    snapshot(second, 15, arrived=25, opened=5)  # at the same moment: one point
    with django_assert_num_queries(1):
        points = results.series(campaign)
    assert [(p.at - T0, p.arrived, p.opened) for p in points] == [
        (timedelta(minutes=1), 10, 1),
        (timedelta(minutes=5), 30, 3),
        (timedelta(minutes=15), 55, 11),
    ]
    assert results.series([first]) == [
        results.Point(T0 + timedelta(minutes=1), 10, 1),
        results.Point(T0 + timedelta(minutes=15), 30, 6),
    ]


def test_the_line_chart_spans_the_first_to_the_last_snapshot() -> None:
    points = [
        results.Point(T0, 0, 0),
        results.Point(T0 + timedelta(hours=1), 730, 80),
        results.Point(T0 + timedelta(hours=2), 900, 120),
    ]
    chart = line_chart(points)
    assert chart is not None
    xs = [float(dot[0]) for dot in chart.dots]
    assert xs[0] == chart.left
    assert xs[-1] == chart.plot_right
    assert [tick.value for tick in chart.y_ticks] == [0, 500, 1000]  # 900 rounded up
    assert chart.x_ticks[0].value == T0
    assert chart.x_ticks[-1].value == points[-1].at
    assert line_chart(points[:1]) is None


def test_nice_ceilings() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 12, 900, 1001)] == [1, 1, 5, 10, 20, 1000, 2000]


# -- splits ----------------------------------------------------------------------------------


def test_splits_add_up_the_latest_snapshots_per_platform_and_vendor() -> None:
    campaign = CampaignFactory.create()
    first, second = a_run(campaign), a_run(campaign, 24)
    snapshot(first, 1, by_platform={"android": {"sent": 99, "arrived": 99, "opened": 99}})
    one = snapshot(
        first,
        60,
        by_platform={"android": {"sent": 10, "arrived": 8, "opened": 2}},
        by_vendor={"huawei": {"sent": 6, "arrived": 5, "opened": 1}},
    )
    two = snapshot(
        second,
        60,
        by_platform={
            "android": {"sent": 5, "arrived": 4, "opened": 2},
            "ios": {"sent": 20, "arrived": 20, "opened": 5},
        },
    )
    platforms = results.splits([one, two], "by_platform")
    assert [(row.label, row.sent, row.arrived, row.opened) for row in platforms] == [
        ("iOS", 20, 20, 5),
        ("Android", 15, 12, 4),
    ]
    assert platforms[1].open_rate == pytest.approx(4 / 12)
    assert [row.label for row in results.splits([one, two], "by_vendor")] == ["Huawei"]
    assert results.splits([two], "by_vendor") == []  # not reported: EMAS, or many calls


# -- where the results stand -----------------------------------------------------------------


def test_results_are_final_once_every_run_ended_and_polling_stopped() -> None:
    campaign = CampaignFactory.create()
    run = a_run(campaign)
    snapshot(run, 60)
    assert results.standing(results.run_results(campaign)).final
    CampaignRun.objects.filter(pk=run.pk).update(
        stats_due_at=T0 + timedelta(hours=7), stats_error="Throttling.User (Throttling.User)"
    )
    standing = results.standing(results.run_results(campaign))
    assert not standing.final
    assert standing.as_of == T0 + timedelta(minutes=60)
    assert standing.next_at == T0 + timedelta(hours=7)
    assert standing.errors == ("Throttling.User (Throttling.User)",)


def test_no_results_before_the_first_snapshot() -> None:
    campaign = CampaignFactory.create()
    a_run(campaign, stats_due_at=T0 + timedelta(hours=1, minutes=1))
    standing = results.standing(results.run_results(campaign))
    assert standing.as_of is None
    assert not standing.final
    assert standing.next_at == T0 + timedelta(hours=1, minutes=1)


# -- failures --------------------------------------------------------------------------------


def test_failures_are_grouped_by_code_over_every_run_with_advice(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    campaign = CampaignFactory.create()
    first, second = a_run(campaign), a_run(campaign, 24)
    with_calls(first, [["a", "b"]] * 3, status=D.FAILED, result_code="TEMPLATE_NOT_EXIST",
               message="template Offer does not exist")  # fmt: skip
    with_calls(second, [["c"]] * 2, status=D.FAILED, result_code="Throttling.User",
               message="Request was denied due to user flow control.")  # fmt: skip
    CampaignRun.objects.update(calls_failed=3)
    runs = [each.run for each in results.run_results(campaign)]
    with django_assert_num_queries(1):
        rows = call_log.failure_rows(runs)
    groups = call_log.failures_by_code(rows, "mpaas")
    assert [(g.code, g.calls, g.targets) for g in groups] == [
        ("TEMPLATE_NOT_EXIST", 3, 6),
        ("Throttling.User", 2, 2),
    ]
    assert groups[0].messages == ("template Offer does not exist",)
    assert "sync it" in str(groups[0].advice)
    assert "slow down" in str(groups[1].advice)


def test_no_failure_query_when_no_run_counted_a_failed_call(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    run = a_run(CampaignFactory.create())
    with django_assert_num_queries(0):
        assert call_log.failure_rows([run]) == []


def test_advice_depends_on_the_provider() -> None:
    assert "template store" in str(advice_for_provider("mpaas", "TEMPLATE_NOT_EXIST"))
    assert advice_for_provider("emas", "TEMPLATE_NOT_EXIST") == ""
    assert "AccessKey" in str(advice_for_provider("emas", "SignatureDoesNotMatch"))
    assert "before sending" in str(advice_for_provider("mpaas", "RequestInvalid"))


# -- the batch log ---------------------------------------------------------------------------


def test_the_batch_log_pages_forward_and_back_by_run_and_seq(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    campaign = CampaignFactory.create()
    first, second = a_run(campaign), a_run(campaign, 24)
    with_calls(first, [["a"]] * 4)
    with_calls(second, [["b"]] * 3)
    runs = list(campaign.runs.all())
    with django_assert_num_queries(1):
        page = call_log.batch_page(runs, size=3)
        assert [(c.run_id, c.seq) for c in page.calls] == [
            (first.pk, 1),
            (first.pk, 2),
            (first.pk, 3),
        ]
        assert page.calls[0].run.due_at == first.due_at  # the run it was given, no query
    assert page.is_first
    assert page.next_cursor
    with django_assert_num_queries(2):  # the rest of the first run, then the second's
        page = call_log.batch_page(runs, after=page.next_cursor, size=3)
    assert [(c.run_id, c.seq) for c in page.calls] == [
        (first.pk, 4),
        (second.pk, 1),
        (second.pk, 2),
    ]
    with django_assert_num_queries(1):  # the last run has no next one to look into
        last = call_log.batch_page(runs, after=page.next_cursor, size=3)
    assert [(c.run_id, c.seq) for c in last.calls] == [(second.pk, 3)]
    assert last.next_cursor is None
    assert last.previous_cursor
    back = call_log.batch_page(runs, before=last.previous_cursor, size=3)
    assert back.calls == page.calls
    first_again = call_log.batch_page(runs, before=back.previous_cursor, size=3)
    assert [c.seq for c in first_again.calls] == [1, 2, 3]
    assert first_again.is_first


def test_a_cursor_that_is_not_the_campaigns_starts_at_the_first_page() -> None:
    campaign, other = CampaignFactory.create(), CampaignFactory.create()
    run, elsewhere = a_run(campaign), a_run(other)
    with_calls(run, [["a"]] * 2)
    with_calls(elsewhere, [["b"]] * 2)
    for cursor in ("nonsense", f"{elsewhere.pk}-1", "99999999999999999999-1"):
        page = call_log.batch_page([run], after=cursor, size=3)
        assert page.is_first
        assert [(c.run_id, c.seq) for c in page.calls] == [(run.pk, 1), (run.pk, 2)]


# -- one target ------------------------------------------------------------------------------


def test_lookup_finds_the_calls_and_msgkeys_of_a_target() -> None:
    campaign = CampaignFactory.create()
    first, second = a_run(campaign), a_run(campaign, 24)
    with_calls(first, [["u1", "u2"], ["u3", "u4"]])
    with_calls(second, [["u4", "u9"]], status=D.FAILED, result_code="PARAM_ILLEGAL")
    runs = list(campaign.runs.order_by("due_at"))
    found = call_log.lookup(campaign, runs, "u4")
    assert [(m.call.run_id, m.call.seq, m.index, m.key) for m in found] == [
        (first.pk, 2, 1, f"pd{first.pk}-2-1"),
        (second.pk, 1, 0, f"pd{second.pk}-1-0"),
    ]
    assert found[1].call.result_code == "PARAM_ILLEGAL"
    assert call_log.lookup(campaign, runs, "u") == []  # exact match only
    assert call_log.lookup(campaign, runs, "nobody") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JSON containment is PostgreSQL's")
def test_lookup_on_postgresql_asks_for_json_containment() -> None:
    from django.test.utils import CaptureQueriesContext

    campaign = CampaignFactory.create()
    run = a_run(campaign)
    with_calls(run, [["u1"]])
    with CaptureQueriesContext(connection) as captured:
        call_log.lookup(campaign, [run], "u1")
    assert "@> '[[\"u1\"]]'" in captured.captured_queries[0]["sql"]


def test_lookup_does_not_apply_to_a_broadcast() -> None:
    assert not call_log.lookup_applies(CampaignFactory.create(kind=Campaign.Kind.BROADCAST))
    assert call_log.lookup_applies(CampaignFactory.create())


# -- the timeline ----------------------------------------------------------------------------


def test_the_timeline_puts_trail_events_and_runs_in_order() -> None:
    campaign = CampaignFactory.create(status=Campaign.Status.COMPLETED)
    Campaign.objects.filter(pk=campaign.pk).update(created_at=T0 - timedelta(days=1))
    campaign.refresh_from_db()
    run = a_run(campaign, 2)
    events = [
        AuditEvent(action="cancel_import", actor_name="x", created_at=T0),  # not a step
        AuditEvent(action="approve", actor_name="admin", created_at=T0 + timedelta(hours=1)),
        AuditEvent(action="submit", actor_name="mia", created_at=T0),
        AuditEvent(action="pause", actor_name="mia", created_at=T0 + timedelta(hours=2, minutes=5)),
    ]
    steps = timeline(campaign, events, [run])
    assert [(str(step.label), step.who) for step in steps] == [
        ("Created", ""),  # no event in the trail: the campaign's own field
        ("Submitted for approval", "mia"),
        ("Approved", "admin"),
        ("Sending started", ""),
        ("Paused", "mia"),
        ("Completed", ""),
    ]
    assert steps[0].at == T0 - timedelta(days=1)
    assert steps[-1].at == run.finished_at
    assert [step.tone for step in steps][-2:] == ["held", "done"]


def test_the_open_rate_chart_compares_runs_oldest_first() -> None:
    campaign = CampaignFactory.create()
    for day, opened in enumerate((10, 30, 20)):
        snapshot(a_run(campaign, 24 * day), 60 + day * 1440, arrived=100, opened=opened)
    chart = open_rate_chart(results.run_results(campaign))
    assert chart is not None
    assert [column.result.open_rate for column in chart.columns] == [0.1, 0.3, 0.2]
    tallest = min(chart.columns, key=lambda column: column.y)
    assert tallest.result.open_rate == 0.3
