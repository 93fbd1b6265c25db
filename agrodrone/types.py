"""Click parameter types the command line shares."""

from __future__ import annotations

import math
import os
import re
from gettext import gettext as _
from typing import Any

import click


class LocalFloat(click.ParamType):
    """A number written the way the user writes it: `15.5`, or `15,5` with the decimal
    comma Vietnamese uses. NaN and infinities are refused (no dose or speed is one)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip()
        if re.fullmatch(r"[+-]?\d+,\d+", text):
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            self.fail(_("{value!r} is not a number (write 15.5 or 15,5)").format(value=value), param, ctx)
        if not math.isfinite(number):
            self.fail(_("{value!r} is not a number (write 15.5 or 15,5)").format(value=value), param, ctx)
        return number


NUMBER = LocalFloat()

# The local area unit shown beside hectares (fields.model.LOCAL_UNITS); AGRODRONE_SAO
# sets it for every command.
sao_option = click.option(
    "--sao",
    type=click.Choice(["bac", "trung", "nam"]),
    default=lambda: os.environ.get("AGRODRONE_SAO", "bac"),
    show_default="bac, or AGRODRONE_SAO",
    help="Local area unit beside hectares: bac = northern sào (360 m²), trung = central sào (500 m²), "
    "nam = southern công (1,000 m²).",
)
