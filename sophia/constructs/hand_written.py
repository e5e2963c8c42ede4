"""`HandWrittenManifests`: the hand-written objects of one application (`environments/manifests/`),
written into its folder as they are: no patches, the same rendering and checks as generated ones."""

from __future__ import annotations

from constructs import Construct

from sophia.constructs._base import Origin, SophiaConstruct
from sophia.model.platform import HandWritten


class HandWrittenManifests(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, objects: tuple[HandWritten, ...]) -> None:
        super().__init__(scope, id)
        for obj in objects:
            self._emit(folder, dict(obj.data), patchable=False, origin=Origin(obj.file, obj.line, "a hand-written manifest"))
