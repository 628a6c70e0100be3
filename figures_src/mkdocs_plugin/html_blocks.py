"""Blocks of a built page, found without parsing the whole page: each <div> an `opening` pattern matches,
up to the `</div>` that closes it (counted by depth, since a block may hold divs of its own)."""

import re
from typing import Iterator

DIV_TAG = re.compile(r"<div\b|</div>")


def outer_divs(html_text: str, opening: re.Pattern) -> Iterator[tuple[re.Match, re.Match | None]]:
    """(the opening tag, its closing tag) for each match of `opening` not inside an earlier one, in page order;
    the closing tag is None for a div never closed (the caller names the page in its error)."""
    position = 0
    for match in opening.finditer(html_text):
        if match.start() < position:
            continue
        depth = 0
        for tag in DIV_TAG.finditer(html_text, match.start()):
            depth += 1 if tag[0] == "<div" else -1
            if depth == 0:
                break
        else:
            yield match, None
            return
        yield match, tag
        position = tag.end()
