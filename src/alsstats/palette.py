"""Colours: the Okabe-Ito palette, safe for the common colour-vision deficiencies."""

from __future__ import annotations

__all__ = ["OKABE_ITO", "SERIES"]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: The order in which series (arms, groups, designs) take colours. Yellow is left out: it is
#: too pale for lines on white.
_ORDER = ("blue", "vermillion", "bluish green", "reddish purple", "orange", "sky blue", "black")
SERIES = tuple(OKABE_ITO[name] for name in _ORDER)
