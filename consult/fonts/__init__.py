"""Fonts that ship with the application.

``wqy-microhei.ttc`` is WenQuanYi Micro Hei 0.2.0-beta (文泉驿微米黑; Apache-2.0, or GPL-3+ with the font
exception: see ``wqy-microhei.COPYING``). It is a TrueType collection: face 0 is the proportional
"WenQuanYi Micro Hei", face 1 the monospaced "WenQuanYi Micro Hei Mono". It covers GB 18030 Chinese
and Latin, so one font serves every text on a printed card or poster.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask import has_app_context

BUNDLED_CJK_FONT = Path(__file__).resolve().with_name("wqy-microhei.ttc")


def cjk_font_path() -> Path:
    """The font for PDFs: the current app's ``CJK_FONT_PATH`` when set, else the bundled one."""
    if has_app_context():
        configured = current_app.config.get("CJK_FONT_PATH")
        if configured:
            return Path(configured)
    return BUNDLED_CJK_FONT
