"""Pages of the help desk: parse the request, call a service or selector, render."""

from __future__ import annotations
