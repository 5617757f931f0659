"""Uploaded files as interview code names them: DAFile and DAFileList (defined in engine.files,
whose values the answers hold)."""

from __future__ import annotations

from chalicelib.engine.files import DAFile, DAFileList

__all__ = ["DAFile", "DAFileList"]
