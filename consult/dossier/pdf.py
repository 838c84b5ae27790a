"""The dossier: a consensus record version as a PDF (ReportLab platypus), for the district and for print.

Cover with the compound, version, date, digest, audit log head and a QR code that opens the record's
verification page; then each section as tables, the vote's bars drawn against their thresholds, page
numbers in the footer. Every text is set in the embedded CJK font (the bundled WenQuanYi Micro Hei, or
``CJK_FONT_PATH``), so Chinese never depends on the reader's fonts. Texts follow ``locale``; what people
wrote (comments, answers, reasons) stays as written. The record holds no resident's name.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from reportlab.graphics.shapes import Drawing
from reportlab.graphics.shapes import Line
from reportlab.graphics.shapes import Rect
from reportlab.graphics.shapes import String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak
from reportlab.platypus import Flowable
from reportlab.platypus import KeepTogether
from reportlab.platypus import PageBreak
from reportlab.platypus import Paragraph
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus import Spacer
from reportlab.platypus import Table
from reportlab.platypus import TableStyle

from consult.dossier.labels import below_the_law_text
from consult.dossier.labels import label
from consult.dossier.rules import group_digest
from consult.experts.rules import method_used
from consult.residents.cards import pdf_font
from consult.residents.qr import QUIET_ZONE
from consult.residents.qr import dark_runs
from consult.residents.qr import qr_matrix
from consult.ui import colon
from consult.voting.counting import percent
from consult.voting.present import unknown_owners_note

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN
INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#bbbbbb")
BAR = colors.HexColor("#2f6f9f")
BAR_FAILED = colors.HexColor("#b0413e")
THRESHOLD = colors.HexColor("#111111")


@dataclass(frozen=True)
class Review:
    """The district review's decision on this version (not part of the frozen content)."""

    kind: str
    decided_at: datetime
    reasons: Sequence[tuple[str, str]]
    reopened_round: int | None
    decided_by: str = ""


@dataclass(frozen=True)
class Dossier:
    content: Mapping[str, Any]
    digest: str
    verify_url: str
    review: Review | None = None


class Styles:
    def __init__(self, font: str) -> None:
        base = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK", textColor=INK)
        self.body = base
        self.small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11)
        self.title = ParagraphStyle("title", parent=base, fontSize=24, leading=32, spaceAfter=6 * mm)
        self.h1 = ParagraphStyle(
            "h1", parent=base, fontSize=15, leading=20, spaceBefore=4 * mm, spaceAfter=3 * mm
        )
        self.h2 = ParagraphStyle(
            "h2", parent=base, fontSize=11.5, leading=15, spaceBefore=3 * mm, spaceAfter=2 * mm
        )
        self.mono = ParagraphStyle("mono", parent=base, fontSize=10, leading=14)
        self._latin: dict[str, ParagraphStyle] = {}

    def latin(self, style: ParagraphStyle) -> ParagraphStyle:
        """The style for a text without Chinese: lines break between words only (CJK wrapping breaks
        anywhere, a word too: "Roun / d")."""
        if style.name not in self._latin:
            self._latin[style.name] = ParagraphStyle(f"{style.name}-latin", parent=style, wordWrap=None)
        return self._latin[style.name]


#: a Chinese (or full-width) character: a text with one is wrapped as Chinese, anywhere between characters
CJK_CHAR = re.compile(r"[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _text(value: Any) -> str:
    return escape("–" if value is None or value == "" else str(value)).replace("\n", "<br/>")


def _share(part: Any, whole: Any) -> str:
    part, whole = Fraction(str(part)), Fraction(str(whole))
    return percent(part / whole, 1) if whole else "–"


def _date(value: str | None, with_time: bool = False) -> str:
    """A stored time (UTC) as the web pages show it: the day, and the time, where the compound is
    (BABEL_DEFAULT_TIMEZONE); a round opening at midnight there is before midnight in UTC."""
    if not value:
        return "–"
    moment = to_user_timezone(datetime.fromisoformat(value))
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


class _Builder:
    def __init__(self, dossier: Dossier, locale: str) -> None:
        self.font = pdf_font()
        self.s = Styles(self.font)
        self.d = dossier
        self.c = dossier.content
        self.sections = self.c["sections"]
        self.zh = locale.startswith("zh")
        self.story: list[Flowable] = []

    # -- helpers

    def para(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        style = style or self.s.body
        return Paragraph(text, style if CJK_CHAR.search(text) else self.s.latin(style))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> Table:
        data = [[self.para(_text(h), self.s.cell) for h in header]]
        data += [[self.para(_text(v), self.s.cell) for v in row] for row in rows]
        table = Table(data, colWidths=[w * BODY_WIDTH for w in widths], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    def facts(self, pairs: Sequence[tuple[str, Any]]) -> Table:
        data = [[self.para(_text(k), self.s.small), self.para(_text(v))] for k, v in pairs]
        table = Table(data, colWidths=[0.32 * BODY_WIDTH, 0.68 * BODY_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table

    def heading(self, key: str) -> None:
        self.story.append(CondPageBreak(40 * mm))
        self.story.append(self.para(_text(label("section", key)), self.s.h1))

    def localised(self, zh: str | None, en: str | None) -> str:
        return (zh or "") if self.zh or not en else en

    # -- the cover

    def qr(self, url: str, size: float) -> Drawing:
        matrix = qr_matrix(url)
        side = len(matrix) + 2 * QUIET_ZONE
        unit = size / side
        drawing = Drawing(size, size, initialFontName=self.font)
        drawing.add(Rect(0, 0, size, size, fillColor=colors.white, strokeColor=None))
        for y, x, n in dark_runs(matrix):
            top = size - (y + QUIET_ZONE + 1) * unit
            drawing.add(
                Rect((x + QUIET_ZONE) * unit, top, n * unit, unit, fillColor=colors.black, strokeColor=None)
            )
        return drawing

    def cover(self) -> None:
        profile = self.sections["profile"]
        self.story.append(Spacer(1, 20 * mm))
        self.story.append(self.para(_text(_("Consensus record (一院一策)")), self.s.small))
        self.story.append(self.para(_text(profile["name"]), self.s.title))
        self.story.append(
            self.facts(
                [
                    (_("District"), profile["district"]),
                    (_("Street"), profile["street"]),
                    (_("Version"), self.c["version"]),
                    (_("Submitted"), _date(self.c["assembled_at"], with_time=True)),
                    (_("Digest (SHA-256)"), group_digest(self.d.digest)),
                    (_("Audit log head at submission"), group_digest(self.c["audit_head"])),
                ]
            )
        )
        self.story.append(Spacer(1, 10 * mm))
        qr = self.qr(self.d.verify_url, 45 * mm)
        note = self.para(
            _text(_("Scan the code, or open the address below, to check this copy against the system."))
            + "<br/><br/>"
            + _text(self.d.verify_url),
            self.s.small,
        )
        table = Table([[qr, note]], colWidths=[50 * mm, BODY_WIDTH - 50 * mm])
        table.setStyle(
            TableStyle([("FONTNAME", (0, 0), (-1, -1), self.font), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
        )
        self.story.append(table)
        self.story.append(PageBreak())

    # -- sections

    def profile(self) -> None:
        p = self.sections["profile"]
        self.heading("profile")
        self.story.append(
            self.facts(
                [
                    (_("Cluster"), p["cluster"]),
                    (_("Address"), p["address"]),
                    (_("Year built"), p["year_built"]),
                    (_("Plan year"), p["plan_year"]),
                    (_("Residents' committee"), p["committee"] or _("Not formed yet")),
                    (_("Buildings"), p["buildings"]),
                    (_("Stairwell units"), p["units"]),
                    (_("Dwellings"), p["dwellings"]),
                    (_("Owners"), p["owners"]),
                    (_("Total floor area"), f"{p['area']} m²"),
                ]
            )
        )

    def rounds(self) -> None:
        self.heading("rounds")
        rows = []
        for r in self.sections["rounds"]:
            rows.append(
                [
                    f"{r['number']}" + (f" ({r['attempt']})" if r["attempt"] > 1 else ""),
                    label("kind", r["kind"]),
                    label("state", r["state"]),
                    _date(r["opens_at"]),
                    _date(r["closes_at"]),
                    _date(r["published_at"]),
                    f"{r['answered']} / {r['eligible']} ({_share(r['answered'], r['eligible'])})",
                ]
            )
        self.story.append(
            self.table(
                [
                    _("Round"),
                    _("Content"),
                    _("Status"),
                    _("Opened"),
                    _("Closed"),
                    _("Published"),
                    _("Households taking part"),
                ],
                rows,
                (0.09, 0.2, 0.16, 0.12, 0.12, 0.12, 0.19),
            )
        )
        reasons = [(r["number"], e) for r in self.sections["rounds"] for e in r["events"] if e["reason"]]
        if reasons:
            self.story.append(self.para(_text(_("Reasons recorded")), self.s.h2))
            self.story.append(
                self.table(
                    [_("Round"), _("Date"), _("What"), _("Reason")],
                    [[n, _date(e["at"]), label("action", e["action"]), e["reason"]] for n, e in reasons],
                    (0.08, 0.14, 0.14, 0.64),
                )
            )

    def needs(self) -> None:
        n = self.sections["needs"]
        self.heading("needs")
        if not n:
            self.story.append(self.para(_text(_("No needs survey."))))
            return
        w = n["willingness"]
        self.story.append(
            self.para(
                _text(
                    _(
                        "%(respondents)s households answered. Willing to renovate: %(yes)s; not: %(no)s; "
                        "not sure: %(unsure)s (of %(dwellings)s dwellings).",
                        respondents=n["respondents"],
                        yes=w["yes"],
                        no=w["no"],
                        unsure=w["unsure"],
                        dwellings=w["dwellings"],
                    )
                )
            )
        )
        if n["hazards"]:
            self.story.append(self.para(_text(label("category", "safety")), self.s.h2))
            self.story.append(
                self.table(
                    [_("Hazard"), _("Households reporting it")],
                    [[self.localised(h["name_zh"], h["name_en"]), h["count"]] for h in n["hazards"]],
                    (0.7, 0.3),
                )
            )
        for group in n["categories"]:
            if not group["items"]:
                continue
            self.story.append(self.para(_text(label("category", group["category"])), self.s.h2))
            rows = [
                [
                    i["rank"],
                    self.localised(i["name_zh"], i["name_en"]),
                    f"{i['count']} ({_share(i['share'], 1)})",
                    label("need_decision", i["decision"])
                    + (f"{colon()}{i['reason']}" if i["reason"] else ""),
                ]
                for i in group["items"]
            ]
            self.story.append(
                self.table([_("Rank"), _("Need"), _("Named by"), _("Decision")], rows, (0.08, 0.42, 0.2, 0.3))
            )

    def schemes(self) -> None:
        self.heading("schemes")
        if not self.sections["schemes"]:
            self.story.append(self.para(_text(_("No design scheme."))))
        for scheme in self.sections["schemes"]:
            self.story.append(
                self.para(
                    _text(
                        _(
                            "Scheme %(label)s: %(title)s (preferred by %(count)s households)",
                            label=scheme["label"],
                            title=scheme["title"],
                            count=scheme["preferred_by"],
                        )
                    ),
                    self.s.h2,
                )
            )
            for v in scheme["versions"]:
                kind = _("revision") if v["revision"] else _("first version")
                items = "<br/>".join(
                    f"• {_text(i['title'])}" + (f" — {_text(i['description'])}" if i["description"] else "")
                    for i in v["items"]
                )
                self.story.append(
                    self.para(
                        f"v{v['number']} ({_text(kind)}, {_date(v['created_at'])}): "
                        f"{_text(v['note'])}<br/>{items}"
                    )
                )

    def experts(self) -> None:
        self.heading("experts")
        panels = self.sections["experts"]
        if not panels:
            self.story.append(self.para(_text(_("No expert panel."))))
        for panel in panels:
            criteria = panel["criteria"]
            # the method the figures were computed with (a trimmed mean needs five experts' scores)
            used = method_used(f["method"] for r in panel["results"] for f in r["figures"].values())
            self.story.append(
                self.para(
                    _text(
                        _(
                            "%(experts)s experts, %(counted)s scores counted; aggregation: %(method)s.",
                            experts=panel["experts"],
                            counted=panel["counted"],
                            method=label("aggregation", used or panel["aggregation"]),
                        )
                    )
                )
            )
            if panel["closed_at"] is None:
                self.story.append(
                    self.para(
                        _text(
                            _(
                                "The panel was still open when this version was assembled: only the "
                                "scores submitted by then count."
                            )
                        )
                    )
                )
            header = [
                _("Scheme"),
                *[f"{self.localised(c['name_zh'], c['name_en'])}\n({c['weight']})" for c in criteria],
            ]
            header += [_("Total"), _("Rank")]
            rows = []
            for r in panel["results"]:
                figures = r["figures"]
                cells = [
                    _number(figures[c["key"]]["value"]) + ("!" if figures[c["key"]]["disagreement"] else "")
                    if c["key"] in figures
                    else "–"
                    for c in criteria
                ]
                rows.append([r["scheme"], *cells, _number(r["total"]), r["rank"] or "–"])
            share = 0.7 / max(len(criteria), 1)
            self.story.append(self.table(header, rows, (0.1, *[share] * len(criteria), 0.12, 0.08)))
            self.story.append(self.para(_text(_("! marks wide disagreement between experts.")), self.s.small))
            self.story.append(self.para(_text(_("The panel's opinion")), self.s.h2))
            self.story.append(
                self.table(
                    [_("Scheme"), _("Opinion"), _("Changes required")],
                    [
                        [r["scheme"], label("verdict", r["opinion"]), r["required_changes"]]
                        for r in panel["results"]
                    ],
                    (0.12, 0.28, 0.6),
                )
            )

    def comments(self) -> None:
        self.heading("comments")
        comments = self.sections["comments"]
        if not comments:
            self.story.append(self.para(_text(_("No comment."))))
            return
        rows = [
            [
                f"{c['scheme']} v{c['version']}",
                c["item"],
                f"{c['body']}\n({label('author', c['author'])}, {_date(c['at'])})",
                label("outcome", c["outcome"]),
                c["answer"],
            ]
            for c in comments
        ]
        self.story.append(
            self.table(
                [_("Scheme"), _("Item"), _("Comment"), _("Answer"), _("Why")],
                rows,
                (0.09, 0.15, 0.34, 0.12, 0.3),
            )
        )

    def bars(self, tally: Mapping[str, Any], failed_colour: bool) -> Drawing:
        """Each bar of the rule: the share reached against its threshold (the black mark)."""
        row, label_width, width = 11, 0.34 * BODY_WIDTH, 0.5 * BODY_WIDTH
        bars = tally["bars"]
        drawing = Drawing(BODY_WIDTH, row * len(bars) + 4, initialFontName=self.font)
        for n, bar in enumerate(bars):
            y = (len(bars) - 1 - n) * row + 2
            whole = Fraction(bar["whole"])
            value = Fraction(bar["part"]) / whole if whole else Fraction(0)
            threshold = Fraction(bar["threshold"])
            drawing.add(
                String(0, y + 2, label("bar", bar["name"]), fontName=self.font, fontSize=7.5, fillColor=INK)
            )
            drawing.add(
                Rect(label_width, y, width, row - 3, fillColor=colors.HexColor("#eeeeee"), strokeColor=None)
            )
            fill = BAR if bar["met"] or not failed_colour else BAR_FAILED
            drawing.add(
                Rect(label_width, y, width * float(min(value, 1)), row - 3, fillColor=fill, strokeColor=None)
            )
            mark = label_width + width * float(threshold)
            drawing.add(Line(mark, y - 1, mark, y + row - 2, strokeColor=THRESHOLD, strokeWidth=1.2))
            sign = ">" if bar["strict"] else "≥"
            verdict = "✓" if bar["met"] else "✗"
            drawing.add(
                String(
                    label_width + width + 4,
                    y + 2,
                    f"{percent(value, 1)} ({sign}{percent(threshold, 1)}) {verdict}",
                    fontName=self.font,
                    fontSize=7.5,
                    fillColor=INK,
                )
            )
        return drawing

    def vote(self) -> None:
        vote = self.sections["vote"]
        self.story.append(CondPageBreak(40 * mm))
        self.story.append(self.para(_text(_("The vote (round 3)")), self.s.h1))
        if not vote:
            self.story.append(self.para(_text(_("No vote."))))
            return
        for q in vote["questions"]:
            if q["topic"] == "lift":
                continue
            key = q["carried"] or next(iter(q["tallies"]))
            t = q["tallies"][key]
            outcome = label("passed", q["passed"])
            if q["carried"]:
                outcome += f"{colon()}{label('management', q['carried'])}"
            counts = _("; ").join(
                f"{label('choice', k) if k in ('yes', 'no', 'abstain') else label('management', k)} {v}"
                for k, v in q["counts"].items()
            )
            block = [
                self.para(
                    f"{q['position']}. {_text(self.localised(q['prompt_zh'], q['prompt_en']))}", self.s.h2
                ),
                self.para(
                    _text(
                        _(
                            "%(outcome)s. Owners in scope %(owners)s (%(area)s m²); voted %(voters)s "
                            "(%(voters_area)s m²); approving %(approving)s (%(approving_area)s m²).",
                            outcome=outcome,
                            owners=t["owners"],
                            area=t["area"],
                            voters=t["voters"],
                            voters_area=t["voters_area"],
                            approving=t["approving"],
                            approving_area=t["approving_area"],
                        )
                    )
                    + (" " + _text(unknown_owners_note(t["unknown"])) if t.get("unknown") else "")
                    + " "
                    + _text(_("Ballots: %(counts)s.", counts=counts))
                ),
                self.bars(t, True),
            ]
            lax = below_the_law_text(q["topic"], q["rule"])
            if lax:
                block.append(self.para(_text(lax)))
            self.story.append(KeepTogether(block))
        self.story.append(
            self.para(
                _text(_("Each bar shows the share reached; the black mark is the threshold.")), self.s.small
            )
        )

    def lifts(self) -> None:
        self.heading("lifts")
        lifts = self.sections["lifts"]
        if not lifts:
            self.story.append(self.para(_text(_("No lift question."))))
            return
        rows = [
            [
                _("Building %(building)s, unit %(unit)s", building=x["building"], unit=x["unit"]),
                label("passed", x["passed"]),
                f"{x['voters']} / {x['owners']}",
                f"{x['approving']} ({_share(x['approving'], x['voters'])})",
                f"{x['approving_area']} / {x['voters_area']} m²",
            ]
            for x in lifts
        ]
        self.story.append(
            self.table(
                [
                    _("Unit"),
                    _("Result"),
                    _("Voted / owners"),
                    _("Approving"),
                    _("Approving area / voters' area"),
                ],
                rows,
                (0.26, 0.14, 0.16, 0.18, 0.26),
            )
        )

    def governance(self) -> None:
        g = self.sections["governance"]
        self.heading("governance")
        self.story.append(
            self.facts(
                [
                    (
                        _("Property management mode"),
                        label("management", g["management"]) if g["management"] else _("Not decided"),
                    ),
                    (_("Residents' pact"), label("passed", g["pact_passed"])),
                ]
            )
        )

    def funding(self) -> None:
        f = self.sections["funding"]
        self.heading("funding")
        self.story.append(
            self.facts(
                [
                    (_("Subsidy per household (yuan)"), f["subsidy_per_household"]),
                    (_("Residents' share of the cost, in percent"), f["residents_share_percent"]),
                    (_("Maintenance fund deposit (yuan per m²)"), f["fund_deposit_per_m2"]),
                    (_("Residents' share approved in the vote"), label("passed", f["share_passed"])),
                    (_("Note"), f["note"]),
                ]
            )
        )

    def history(self) -> None:
        history = self.c["history"]
        review = self.d.review
        if not history and review is None:
            return
        self.story.append(CondPageBreak(40 * mm))
        self.story.append(self.para(_text(_("History of the district review")), self.s.h1))
        rows = []
        for h in history:
            reasons = "\n".join(f"{label('section', k)}{colon()}{v}" for k, v in h["reasons"].items())
            rows.append(
                [
                    h["version"],
                    _date(h["submitted_at"]),
                    _decided(
                        label("status", h["decision"] or "submitted"), h["decided_at"], h.get("decided_by")
                    ),
                    reasons,
                ]
            )
        if review is not None:
            reasons = "\n".join(f"{label('section', k)}{colon()}{v}" for k, v in review.reasons)
            rows.append(
                [
                    self.c["version"],
                    _date(self.c["assembled_at"]),
                    _decided(label("status", review.kind), review.decided_at.isoformat(), review.decided_by),
                    reasons,
                ]
            )
        self.story.append(
            self.table(
                [_("Version"), _("Submitted"), _("Decision"), _("Reasons")], rows, (0.1, 0.15, 0.2, 0.55)
            )
        )

    def build(self) -> list[Flowable]:
        self.cover()
        for part in (
            self.profile,
            self.rounds,
            self.needs,
            self.schemes,
            self.experts,
            self.comments,
            self.vote,
            self.lifts,
            self.governance,
            self.funding,
            self.history,
        ):
            part()
        return self.story


def _decided(status: str, decided_at: str | None, by: str | None = None) -> str:
    """A review decision with the day it was taken and who took it (none while it waits; versions
    frozen before the record named the reviewer have no name)."""
    if not decided_at:
        return status
    return "\n".join(part for part in (status, _date(decided_at), by) if part)


def _number(value: Any) -> str:
    """An exact figure ("37/4") to two decimals for reading."""
    if value is None:
        return "–"
    fraction = Fraction(str(value))
    hundredths = (fraction * 100 + Fraction(1, 2)).__floor__()
    whole, part = divmod(hundredths, 100)
    return f"{whole}.{part:02d}"


def _footer(font: str, text: str) -> Callable[[Any, Any], None]:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 10 * mm, text)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 10 * mm, _("Page %(number)s", number=doc.page))
        canvas.restoreState()

    return draw


def dossier_pdf(dossier: Dossier, locale: str) -> bytes:
    """The PDF of one version, in ``locale`` (needs an app context for the translations)."""
    with force_locale(locale):
        builder = _Builder(dossier, locale)
        story = builder.build()
        profile = dossier.content["sections"]["profile"]
        footer = _footer(
            builder.font,
            _(
                "%(compound)s · consensus record v%(version)s · digest %(digest)s… · audit head %(head)s…",
                compound=profile["name"],
                version=dossier.content["version"],
                digest=dossier.digest[:16],
                head=dossier.content["audit_head"][:16],
            ),
        )
        out = io.BytesIO()
        doc = SimpleDocTemplate(
            out,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=18 * mm,
            title=_(
                "Consensus record of %(compound)s, version %(version)s",
                compound=profile["name"],
                version=dossier.content["version"],
            ),
            author="Tongxin",
            creator="Tongxin",
            initialFontName=builder.font,  # no font outside the PDF is ever named, not even Helvetica
        )
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
