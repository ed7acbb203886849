"""The trajectory page's verdict: does imputation make the pseudotime order the wells by their known position?

:func:`verdict` reads the per-path table of :func:`scmaskgan.evaluation.trajectory.score_paths` (one row per
method and path: oriented Spearman, share of discordant pairs, misplaced wells) and says, in the words of
:mod:`scmaskgan.verdicts.text`, what the default method changed against the observed counts and how it
compares with the other methods of the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scmaskgan._validation import InputError
from scmaskgan.verdicts.text import block, change, join, number
from scmaskgan.verdicts.text import circular as circular_sentence

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["verdict"]


def verdict(path_table: "pd.DataFrame", *, data: str, default: str = "count model", observed: str = "observed",
            circular: bool = False, tolerance: float = 0.02) -> str:
    """The trajectory page's verdict, as markdown.

    Parameters
    ----------
    path_table
        One row per method and path, with columns ``method``, ``path``, ``spearman`` (oriented: 1 when the
        pseudotime grows from the path's start), ``discordant_pairs`` (share of pairs in the wrong order) and
        ``misplaced`` (wells outside their level), as :func:`scmaskgan.evaluation.trajectory.score_paths`
        returns it.
    data
        The data in words, e.g. ``"CellBench's RNA mixtures"``.
    default
        The method whose verdict this is (the page's default, the count model).
    observed
        The method name of the counts without imputation.
    circular
        Whether labels that drove the imputation also define the known positions (the score is then
        circular and the verdict says so).
    tolerance
        Smallest change of the mean Spearman counted as helping or hurting.

    Returns
    -------
    str
        A ``**Verdict.**`` paragraph of three to six sentences.

    Raises
    ------
    InputError
        When the table lacks a column, the observed counts or the default method.
    """
    needed = {"method", "path", "spearman", "discordant_pairs", "misplaced"}
    missing = needed - set(path_table.columns)
    if missing:
        raise InputError(f"verdict(): the path table lacks the columns {sorted(missing)}.")
    for name in (observed, default):
        if name not in set(path_table["method"]):
            raise InputError(f"verdict(): the path table has no method {name!r}.")
    grouped = path_table.groupby("method", sort=False)
    summary = grouped.agg(spearman=("spearman", "mean"), discordant=("discordant_pairs", "mean"),
                          misplaced=("misplaced", "sum"))
    unreached = (grouped["unreached"].sum().to_dict() if "unreached" in path_table.columns
                 else dict.fromkeys(summary.index, 0))
    paths = list(dict.fromkeys(path_table["path"]))
    obs, own = summary.loc[observed], summary.loc[default]
    per_path = path_table.set_index(["method", "path"])["spearman"]
    what = "the known path" if len(paths) == 1 else f"the {len(paths)} known paths"
    sentences = [
        f"On {data}, the pseudotime of the observed counts ordered the wells along {what} with a mean "
        f"Spearman's rho of {number(obs.spearman)}, {number(obs.discordant)} of the pairs of wells in the wrong "
        f"order and {int(obs.misplaced)} wells outside their level" + (" (summed over the paths)." if len(paths) > 1
                                                                      else "."),
        f"With the {default}, the mean rho {change(obs.spearman, own.spearman, higher_is_better=True)}, the share "
        f"of discordant pairs {change(obs.discordant, own.discordant, higher_is_better=False)} and the misplaced "
        f"wells went from {int(obs.misplaced)} to {int(own.misplaced)}: " + _judgement(own.spearman - obs.spearman,
                                                                                     default, tolerance),
    ]
    if len(paths) > 1:
        sentences.append("Per path (observed, then " + default + "): " + join(
            [f"{path} {number(per_path[(observed, path)])} and {number(per_path[(default, path)])}"
             for path in paths]) + ".")
    others = [m for m in summary.index if m not in (observed, default)]
    if others:
        ranked = summary.sort_values("spearman", ascending=False, kind="stable")
        rank = list(ranked.index).index(default) + 1
        best = ("the best" if rank == 1 else
                f"number {rank}; the best is {ranked.index[0]} ({number(ranked.spearman.iloc[0])})")
        sentences.append(
            "Mean rho of the other methods: " + join([f"{m} {number(summary.loc[m, 'spearman'])}" for m in others])
            + f"; of these {len(summary)} matrices (the observed counts included) the {default} is {best}.")
    lost = [m for m in summary.index if unreached[m] > 0]
    if lost:
        sentences.append("The pseudotime of " + join([f"{m} left {int(unreached[m])}" for m in lost])
                         + " wells of the paths unreached, and "
                         + ("its" if len(lost) == 1 else "their") + " scores cover only the wells reached.")
    sentences.append(circular_sentence("the imputation was given the labels that the positions are scored against")
                     if circular else "No method was given the known positions, so the scores are not circular.")
    return block(sentences)


def _judgement(gain: float, default: str, tolerance: float) -> str:
    """Whether a gain of the mean Spearman helped, hurt or changed nothing, as the end of a sentence."""
    if gain > tolerance:
        return f"imputation with the {default} helped the ordering of the wells by their known position."
    if gain < -tolerance:
        return (f"imputation with the {default} did not help; it ordered the wells by their known position worse "
                "than the observed counts.")
    return f"imputation with the {default} did not help; the mean rho changed by less than {number(tolerance)}."
