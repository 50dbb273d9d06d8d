"""The home pages' SVG charts (app/reports/web_charts.py): named for assistive technology, the
figures written beside the bars, text escaped, nothing the Content-Security-Policy blocks."""

from datetime import UTC, datetime, timedelta

from app.reports.web_charts import Bar, Segment, Span, TimelineRow, bar_chart, timeline_chart

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_a_bar_chart_names_itself_and_writes_its_figures():
    svg = bar_chart(
        "c1",
        "Requests by stage",
        "One bar per stage.",
        [Bar("Assessment", (Segment(3, "on_time"), Segment(2, "late")), "5 requests, 2 late")],
        [("on_time", "Within the deadline"), ("late", "Past the deadline")],
    )
    assert 'role="img" aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Requests by stage</title>' in svg
    assert "5 requests, 2 late" in svg  # colour is not the only signal
    assert "Past the deadline" in svg  # the legend
    assert "style=" not in svg  # the CSP refuses inline styles


def test_labels_are_escaped_and_long_ones_shortened_with_the_full_text_in_a_tooltip():
    name = "<script>alert(1)</script> A device with a very long trade name indeed"
    svg = bar_chart("c2", "T", "D", [Bar(name, (Segment(1, "count"),), "1")], [])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "…" in svg


def test_a_timeline_draws_the_spans_up_to_today_with_month_ticks():
    start = NOW - timedelta(days=400)
    row = TimelineRow("CardioValve", (Span(start, NOW, "agency", "Assessment"),))
    svg = timeline_chart(
        "c3",
        "My requests",
        "D",
        [row],
        [("agency", "With the agency")],
        NOW,
        lambda moment: moment.strftime("%b %Y"),
        "Today",
    )
    assert "Today" in svg and "CardioValve" in svg
    assert 2 <= svg.count("<line") - 1 <= 7  # at most six month ticks, and today's line
