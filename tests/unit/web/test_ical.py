import datetime as dt

from web import ical

UTC = dt.timezone.utc


def _unfold(body: str) -> list[str]:
    """Content lines back from the document, as a calendar app reads them."""
    assert body.endswith("\r\n")
    physical = body[:-2].split("\r\n")
    lines: list[str] = []
    for line in physical:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode("utf-8")) <= 75, line
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            out.append("\n" if value[i + 1] in "nN" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _event(**overrides) -> ical.CalendarEvent:
    values = dict(
        uid="https://circles.test/posts/1", summary="Chapter 3",
        starts_at=dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ends_at=dt.datetime(2026, 12, 1, 19, 0, tzinfo=UTC), stamp=dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        description="Read; then discuss, with notes\\ideas\nand more", location="Library, room 2",
        url="https://circles.test/meetings/1",
    )
    return ical.CalendarEvent(**(values | overrides))


def test_a_calendar_parses_back_line_by_line():
    body = ical.calendar("Readers, meetings", [_event(), _event(uid="https://circles.test/posts/2", cancelled=True)])
    lines = _unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 2 and lines.count("END:VEVENT") == 2
    first = lines[lines.index("BEGIN:VEVENT") + 1: lines.index("END:VEVENT")]
    props = dict(line.split(":", 1) for line in first)
    assert props["UID"] == "https://circles.test/posts/1"
    assert props["DTSTART"] == "20261201T173000Z" and props["DTEND"] == "20261201T190000Z"
    assert props["DTSTAMP"] == "20261126T120000Z"
    assert _unescape(props["DESCRIPTION"]) == "Read; then discuss, with notes\\ideas\nand more"
    assert props["DESCRIPTION"] == "Read\\; then discuss\\, with notes\\\\ideas\\nand more"
    assert _unescape(props["LOCATION"]) == "Library, room 2" and props["STATUS"] == "CONFIRMED"
    assert props["URL"] == "https://circles.test/meetings/1"
    assert "STATUS:CANCELLED" in lines
    assert "X-WR-CALNAME:Readers\\, meetings" in lines


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    summary = "Étude " + "日本語の勉強会" * 20 + " 🎉" * 10
    line = f"SUMMARY:{summary}"
    folded = ical.fold(line)
    physical = folded.split("\r\n")
    assert len(physical) > 3
    for index, part in enumerate(physical):
        encoded = part.encode("utf-8")
        assert len(encoded) <= 75
        encoded.decode("utf-8")  # a split character would not decode
        assert index == 0 or part.startswith(" ")
    assert "".join([physical[0]] + [p[1:] for p in physical[1:]]) == line


def test_short_lines_are_not_folded_and_exactly_75_octets_fit():
    assert ical.fold("SUMMARY:x") == "SUMMARY:x"
    exact = "X" * 75
    assert ical.fold(exact) == exact
    assert ical.fold(exact + "Y") == exact + "\r\n Y"


def test_text_escaping_and_control_characters():
    assert ical.escape_text("a\\b;c,d\r\ne\rf\ng") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
    assert ical.escape_text("bell\x07 tab\t") == "bell tab\t"


def test_every_line_ends_with_crlf():
    body = ical.calendar("x", [_event(description="line one\nline two " * 20)])
    rest = body.replace("\r\n", "")
    assert "\n" not in rest and "\r" not in rest and body.endswith("END:VCALENDAR\r\n")


def test_a_url_with_line_breaks_cannot_add_lines():
    body = ical.calendar("Readers", [_event(url="https://e.example/\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:Fake")])
    lines = _unfold(body)
    assert [line for line in lines if line.startswith("URL:")] == [
        "URL:https://e.example/END:VEVENTBEGIN:VEVENTSUMMARY:Fake"
    ]
    assert lines.count("BEGIN:VEVENT") == 1
