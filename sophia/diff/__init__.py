"""`sophia diff`: what a synth of the working tree changes in dist/ relative to a git revision.

The engine (`compare`) works on two `{path relative to dist: text}` trees and knows nothing of git
or the compiler; `gitread` reads dist/ at a revision; the renderers turn a `DiffReport` into text
for a terminal or Markdown for a PR comment; `command` is the click command.
"""

from sophia.diff.engine import AppSummary, DiffReport, Relabelled, compare
from sophia.diff.model import Change, DiffError, ObjectKey
from sophia.diff.risks import Risk

__all__ = ["AppSummary", "Change", "DiffError", "DiffReport", "ObjectKey", "Relabelled", "Risk", "compare"]
