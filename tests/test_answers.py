"""Keep the instructor's answer key, docs/answers.md, true for the current model.

Every number in an answer is followed by a hidden marker ``<!-- q:NAME -->``;
the table at the end of the page gives each NAME a recipe (a Python expression),
and the Python block above that table defines the helpers the recipes use. These
tests run that block and every recipe, and check that

* each printed number is the recipe's value to the precision printed (``32.1``
  must round to 32.1, ``2.4e5`` to two significant digits, ``< 1`` must hold),
  and each printed word (a fate, a parameter name) is the recipe's value;
* every marker names a recipe and every recipe is used;
* no number in an answer goes without a marker, except the set-up inputs that
  the page's introduction lists (step numbers, schedule days, group sizes,
  seeds, sample counts, and anything written as code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "answers.md"
RECIPE_HEADING = "## How every number is computed"
RECIPE_HEADER = "| quantity | recipe |"

NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
MARKER = re.compile(r"<!-- q:([a-z0-9_]+) -->")  # names are lower case: `<!-- q:NAME -->` in prose is no marker
PRINTED_NUMBER = re.compile(rf"(?:([<>])\s*)?({NUMBER})$")
LOOSE_NUMBER = re.compile(rf"(?<![\w.])(?<!\w-){NUMBER}(?!\w)")  # not part of a name: 4T1.2, IL-2, Ifnar1

SETUP_DAYS = r"(?:0|1|7|14|15|24|28|30|45|60|120)"
SETUP_PHRASES = [
    re.compile(rf"\bdays? {SETUP_DAYS}(?: (?:to|and) (?:day )?{SETUP_DAYS})?\b(?!\.\d)"),  # the schedule of an exercise
    re.compile(r"\b(?:20|200|800) (?:virtual )?(?:mice|patients)\b"),  # group sizes
    re.compile(r"\bseeds? \d+(?: to \d+)?\b"),  # seeds
    re.compile(r"\b(?:256|512) (?:base )?samples\b"),  # sample counts of the analyses
    re.compile(r"\b90 % of (?:the )?samples\b"),  # the width of the reported range
    re.compile(r"\bsteps? \d+\b"),  # references to exercise steps
]
"""Set-up inputs that may appear without a marker (docs/answers.md lists them in its introduction)."""


@dataclass(frozen=True)
class Mark:
    """One marked number or word: the recipe it names, the text before it and its line."""

    name: str
    before: str
    line: int


def split_page(text: str) -> tuple[str, str]:
    """The answers (everything before the recipe section) and the recipe section."""
    answers, heading, recipes = text.partition(RECIPE_HEADING)
    assert heading, f"docs/answers.md must have a section {RECIPE_HEADING!r}"
    return answers, recipes


def helper_code(recipes: str) -> str:
    """The first Python block of the recipe section: the helpers every recipe may call."""
    found = re.search(r"```python\n(.*?)```", recipes, re.S)
    assert found, "the recipe section must open with a ```python block of helpers"
    return found.group(1)


def recipe_table(recipes: str) -> dict[str, str]:
    """Quantity name -> Python expression, from the table headed RECIPE_HEADER."""
    lines = recipes.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == RECIPE_HEADER]
    assert len(starts) == 1, f"the recipe section must hold one table headed {RECIPE_HEADER!r}"
    table: dict[str, str] = {}
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        row = re.fullmatch(r"\| ([a-z0-9_]+) \| `(.+)` \|", line.strip())
        assert row, f"recipe row not of the form '| name | `expression` |': {line!r}"
        name, expression = row.groups()
        assert name not in table, f"recipe {name!r} is defined twice"
        table[name] = expression
    assert table, "the recipe table is empty"
    return table


def marks(answers: str) -> list[Mark]:
    return [Mark(m.group(1), answers[:m.start()], answers.count("\n", 0, m.start()) + 1)
            for m in MARKER.finditer(answers)]


def _normal_scientific(text: str) -> tuple[str, int]:
    mantissa, _, exponent = text.lower().partition("e")
    return mantissa, int(exponent)


def check_printed(before: str, value: object) -> str | None:
    """Why the text just before a marker does not show ``value``, or None if it does."""
    if isinstance(value, str):
        shown = before.rstrip("`")
        return None if shown.endswith(value) else f"the text should end with {value!r}"
    if value is None:
        return "the recipe gives None (no such day): print a fate instead of a number"
    found = PRINTED_NUMBER.search(before)
    if not found:
        return "no number right before the marker"
    relation, printed = found.groups()
    value = float(value)
    if relation == "<":
        return None if value < float(printed) else f"the model gives {value:.4g}, not below {printed}"
    if relation == ">":
        return None if value > float(printed) else f"the model gives {value:.4g}, not above {printed}"
    if "e" in printed.lower():
        mantissa, exponent = _normal_scientific(printed)
        digits = len(mantissa.partition(".")[2])
        wanted = _normal_scientific(f"{value:.{digits}e}")
        return None if (mantissa, exponent) == wanted else f"printed {printed}, the model gives {value:.{digits + 2}e}"
    digits = len(printed.partition(".")[2])
    return None if f"{value:.{digits}f}" == printed else f"printed {printed}, the model gives {value:.{digits + 2}f}"


def unmarked_numbers(answers: str) -> list[tuple[int, str]]:
    """(line, number) of every number in the answers that is neither marked nor a set-up input."""
    problems = []
    in_code = False
    for number, line in enumerate(answers.splitlines(), start=1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code or line.startswith("#"):
            continue
        text = re.sub(rf"{NUMBER}<!-- q:[a-z0-9_]+ -->", " ", line)
        text = re.sub(r"<!--.*?-->|`[^`]*`|\]\([^)]*\)", " ", text)
        for phrase in SETUP_PHRASES:
            text = phrase.sub(" ", text)
        problems += [(number, found) for found in LOOSE_NUMBER.findall(text)]
    return problems


# --- the page -------------------------------------------------------------------------------------


@cache
def page() -> tuple[str, str]:
    return split_page(DOC.read_text(encoding="utf-8"))


@cache
def namespace() -> dict:
    scope: dict = {}
    exec(compile(helper_code(page()[1]), f"{DOC}: helpers", "exec"), scope)  # noqa: S102 - the page's own code
    return scope


@cache
def value(name: str) -> object:
    expression = recipe_table(page()[1])[name]
    return eval(expression, namespace())  # noqa: S307 - the page's own recipes


def test_every_marker_names_a_recipe_and_every_recipe_is_used():
    recipes = recipe_table(page()[1])
    used = {m.name for m in marks(page()[0])}
    assert used, "docs/answers.md has no marked numbers"
    unknown = sorted(used - set(recipes))
    unused = sorted(set(recipes) - used)
    assert not unknown, f"docs/answers.md: markers without a recipe: {unknown}"
    assert not unused, f"docs/answers.md: recipes no answer uses (remove them): {unused}"


def test_every_marked_number_is_what_the_model_gives():
    problems = []
    for mark in marks(page()[0]):
        why = check_printed(mark.before, value(mark.name))
        if why:
            problems.append(f"line {mark.line}, {mark.name}: {why}")
    assert not problems, "docs/answers.md is out of date:\n" + "\n".join(problems)


def test_no_number_in_an_answer_goes_without_a_marker():
    found = unmarked_numbers(page()[0])
    assert not found, ("docs/answers.md: numbers without a <!-- q:NAME --> marker (mark them, or write an input as "
                       "`code`): " + ", ".join(f"line {line}: {number}" for line, number in found))


# --- the checker itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "value", "ok"), [
    ("on day 32.1", 32.1239, True),
    ("on day 32.1", 32.16, False),
    ("83", 83.0000001, True),
    ("83", 82.4, False),
    ("about 8.2e6", 8.186e6, True),
    ("about 8.2e6", 8.26e6, False),
    ("about 8.2e6", 8.2e7, False),
    ("p = 1.7e-38", 1.66e-38, True),
    ("below < 1", 0.3, True),
    ("below < 1", 1.3, False),
    ("beyond > 40", 45.0, True),
    ("stays free", "free", True),
    ("stays free", "metastasis", False),
    ("the `bone_growth_rate`", "bone_growth_rate", True),
    ("a stable focus", "stable focus", True),
    ("on day 32.1", None, False),
    ("on day", 32.1, False),
])
def test_check_printed(before, value, ok):
    assert (check_printed(before, value) is None) is ok


def test_scan_finds_unmarked_numbers_and_allows_only_set_up_inputs():
    text = "\n".join([
        "### 5. A heading 5 with numbers 2",
        "Surgery on day 14, with 200 mice and seed 1, reaches bone on day 32.1<!-- q:x -->.",
        "The `--n 20` run of 4T1.2 in Ifnar1-/- mice (CD8+ cells, 66cl4, IL-2) and [a link](model.md#8-model-outputs).",
        "```",
        "tumorsim run irf7-silenced --days 33",
        "```",
        "But it reaches bone on day 33, and 45 % stay free, p = 0.04.",
    ])
    assert unmarked_numbers(text) == [(7, "33"), (7, "45"), (7, "0.04")]


def test_recipe_table_rejects_a_malformed_row():
    with pytest.raises(AssertionError, match="recipe row"):
        recipe_table(f"{RECIPE_HEADER}\n|---|---|\n| a name with spaces | `day('x')` |\n")
