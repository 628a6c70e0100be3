"""A stylesheet cut down to the rules some page can use.

mkdocs-jupyter gives every notebook page all of JupyterLab's styles (600 KB: Blueprint widgets, dialogs, the
file browser, …); the browser matches every rule against every element and resolves every custom property, a
cost paid on each page. `prune` keeps what the pages can use:

- a style rule if one of its selectors matches an element of some page in some colour scheme, matched with
  pseudo-classes and pseudo-elements left out (`:hover`, `::before` and the like depend on state the built page
  does not have, so the rule counts as used when its element exists); a selector the matcher cannot read keeps
  its rule;
- the custom properties (`--jp-…`) those rules, the pages' own styles and the other stylesheets of the pages
  refer to, transitively through other custom properties;
- the `@keyframes` and `@font-face` whose names kept declarations mention, an `@media` or `@supports` block
  with the rules it keeps, and any other at-rule as it is.

Rules keep their order, so the cascade among the kept rules is unchanged.
"""

import tinycss2
from bs4 import BeautifulSoup
from soupsieve import SelectorSyntaxError
import soupsieve

GROUPING_RULES = {"media", "supports"}  # at-rules holding style rules: pruned inside
STATIC_PSEUDO_CLASSES = {"root"}  # pseudo-classes that hold on the built page whatever the reader does
COMBINATORS = {">", "+", "~", ","}


def prune(css: str, pages: list[str], schemes: list[dict[str, str]], other_css: list[str] = ()) -> str:
    """`css` cut down to what `pages` (HTML) can use. `schemes` are the attribute sets the palette toggle puts
    on each page's <body> (rules for every colour scheme stay); `other_css` are the pages' other stylesheets,
    whose var() references keep the custom properties they name."""
    documents = [BeautifulSoup(page, "html.parser") for page in pages]
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    used = UsedSelectors(documents, schemes)
    kept = [rule for rule in (keep_rule(rule, used) for rule in rules) if rule is not None]
    style_texts = [tag.get("style", "") for document in documents for tag in document.find_all(style=True)]
    style_texts += [tag.get_text() for document in documents for tag in document.find_all("style")]
    needed = needed_properties(kept, var_references("\n".join([*style_texts, *other_css])))
    kept = [rule for rule in (drop_properties(rule, needed) for rule in kept) if rule is not None]
    names = mentioned_names(kept)
    kept = [rule for rule in kept if at_rule_name_used(rule, names)]
    return "\n".join(serialize(rule) for rule in kept) + "\n"


class UsedSelectors:
    """Whether a selector matches some element of some document in some colour scheme."""

    def __init__(self, documents, schemes: list[dict[str, str]]):
        self.documents, self.schemes = documents, schemes or [{}]
        for scheme in self.schemes:  # every attribute a scheme sets is on <body>, to be found below
            for document in documents:
                if document.body is not None:
                    document.body.attrs.update(scheme)
        self.tags = [tag for document in documents for tag in document.find_all(True)]
        self.known: dict[str, bool] = {}  # selector -> whether it matches
        # The elements with each name, class, attribute and id: a selector is tried only on the elements its last
        # compound names, and one naming what no page has is done at once (most rules end there).
        self.having: dict[tuple[str, str], list] = {}
        for tag in self.tags:
            names = [("type", tag.name.lower())] + [("class", name) for name in tag.get("class", [])]
            names += [("attribute", name.lower()) for name in tag.attrs]
            for name in names + ([("id", tag["id"])] if tag.has_attr("id") else []):
                self.having.setdefault(name, []).append(tag)

    def matches(self, selector: list) -> bool:
        text = tinycss2.serialize(selector).strip()
        if text not in self.known:
            self.known[text] = self.match(selector, text)
        return self.known[text]

    def match(self, selector: list, text: str) -> bool:
        try:
            compiled = soupsieve.compile(text)
        except SelectorSyntaxError:
            return True  # what cannot be read might match
        if any(name not in self.having for name in required_names(selector)):
            return False
        candidates = min((self.having[name] for name in required_names(subject(selector))), key=len,
                         default=self.tags)
        # Attribute selectors may test the colour scheme: try each; other selectors are the same in all.
        schemes = self.schemes if any(token.type == "[] block" for token in selector) else [{}]
        for scheme in schemes:
            for document in self.documents:
                if document.body is not None:
                    document.body.attrs.update(scheme)
            if any(compiled.match(tag) for tag in candidates):
                return True
        return False


def subject(selector: list) -> list:
    """The last compound of a selector (tokens): the part the matched element itself must satisfy."""
    tokens = list(selector)
    while tokens and tokens[-1].type == "whitespace":
        tokens.pop()
    start = max((index + 1 for index, token in enumerate(tokens) if token.type == "whitespace" or (
        token.type == "literal" and token.value in COMBINATORS)), default=0)
    return tokens[start:]


def required_names(selector: list) -> set[tuple[str, str]]:
    """The element names, classes, attributes and ids a selector (tokens, without pseudo-classes) needs."""
    if any(token.type == "literal" and token.value == "|" for token in selector):
        return set()  # a namespace prefix: left to the matcher
    names, previous = set(), None
    for token in selector:
        if token.type == "ident":
            if previous is not None and previous.type == "literal" and previous.value == ".":
                names.add(("class", token.value))
            elif not (previous is not None and previous.type == "literal" and previous.value == ":"):
                names.add(("type", token.lower_value))
        elif token.type == "hash":
            names.add(("id", token.value))
        elif token.type == "[] block":
            parts = [part for part in token.content if part.type != "whitespace"]
            if parts and parts[0].type == "ident" and not any(part == "|" for part in parts):  # no namespace
                names.add(("attribute", parts[0].lower_value))
        previous = token
    return names


def keep_rule(rule, used: UsedSelectors):
    """The rule, a grouping rule holding only its used rules, or None."""
    if rule.type == "qualified-rule":
        selectors = static_selectors(rule.prelude)
        return rule if any(used.matches(selector) for selector in selectors) else None
    if rule.type == "at-rule" and rule.lower_at_keyword in GROUPING_RULES and rule.content is not None:
        inner = [kept for kept in (keep_rule(child, used) for child in tinycss2.parse_rule_list(
            rule.content, skip_comments=True, skip_whitespace=True)) if kept is not None]
        return rebuilt_at_rule(rule, inner) if inner else None
    if rule.type == "error":
        return None  # the browser drops it too
    return rule


def static_selectors(prelude: list) -> list[list]:
    """The selectors (tokens) of a rule's selector list with their state-dependent parts left out: `a:hover::before`
    -> `a`, `.x > ::-webkit-scrollbar` -> `.x > *`."""
    selectors, current = [], []
    tokens = [token for token in prelude if token.type != "comment"]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
            index += 1
            continue
        if token.type == "literal" and token.value == ":":
            end = index + 1
            while end < len(tokens) and tokens[end].type == "literal" and tokens[end].value == ":":
                end += 1
            name = tokens[end] if end < len(tokens) else None
            if name is not None and name.type == "ident" and end == index + 1 \
                    and name.lower_value in STATIC_PSEUDO_CLASSES:
                current += tokens[index:end + 1]
            elif not current or current[-1].type == "whitespace" or (
                    current[-1].type == "literal" and current[-1].value in COMBINATORS):
                current.append(tinycss2.ast.LiteralToken(0, 0, "*"))  # a compound of only pseudo parts
            index = end + 1
            continue
        current.append(token)
        index += 1
    selectors.append(current)
    return selectors


def var_references(text_or_tokens) -> set[str]:
    """The custom property names inside var() anywhere in CSS text or tokens, fallbacks included."""
    tokens = tinycss2.parse_component_value_list(text_or_tokens) if isinstance(text_or_tokens, str) \
        else text_or_tokens
    names = set()
    for token in tokens:
        if token.type == "function":
            if token.lower_name == "var":
                names |= {t.value for t in token.arguments if t.type == "ident" and t.value.startswith("--")}
            names |= var_references(token.arguments)
        elif token.type in ("() block", "[] block", "{} block"):
            names |= var_references(token.content)
    return names


def declarations(rule) -> list:
    return tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True)


def needed_properties(rules: list, roots: set[str]) -> set[str]:
    """The custom properties the rules' ordinary declarations and `roots` refer to, transitively."""
    defines: dict[str, set[str]] = {}
    needed = set(roots)
    for rule in style_rules(rules):
        for item in declarations(rule):
            if item.type != "declaration":
                needed |= var_references(tinycss2.serialize([item]))  # a nested rule: keep what it names
            elif item.name.startswith("--"):
                defines.setdefault(item.name, set()).update(var_references(item.value))
            else:
                needed |= var_references(item.value)
    todo = list(needed)
    while todo:
        for name in defines.get(todo.pop(), ()):
            if name not in needed:
                needed.add(name)
                todo.append(name)
    return needed


def style_rules(rules: list):
    for rule in rules:
        if rule.type == "qualified-rule":
            yield rule
        elif rule.type == "at-rule" and rule.lower_at_keyword in GROUPING_RULES and rule.content is not None:
            yield from style_rules(tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True))


def drop_properties(rule, needed: set[str]):
    """The rule without the custom properties nothing needs; None if nothing is left of it."""
    if rule.type == "at-rule" and rule.lower_at_keyword in GROUPING_RULES:
        inner = [kept for kept in (drop_properties(child, needed) for child in tinycss2.parse_rule_list(
            rule.content, skip_comments=True, skip_whitespace=True)) if kept is not None]
        return rebuilt_at_rule(rule, inner) if inner else None
    if rule.type != "qualified-rule":
        return rule
    items = declarations(rule)
    kept = [item for item in items if item.type != "declaration" or not item.name.startswith("--")
            or item.name in needed]
    if not kept:
        return None
    if len(kept) == len(items):
        return rule
    content = tinycss2.parse_component_value_list("".join(tinycss2.serialize([item]) for item in kept))
    return tinycss2.ast.QualifiedRule(rule.source_line, rule.source_column, rule.prelude, content)


def rebuilt_at_rule(rule, inner: list):
    content = tinycss2.parse_component_value_list("".join(serialize(child) for child in inner))
    return tinycss2.ast.AtRule(rule.source_line, rule.source_column, rule.at_keyword, rule.lower_at_keyword,
                               rule.prelude, content)


def mentioned_names(rules: list) -> set[str]:
    """Every identifier and string in the declarations of the style rules: animation and font names."""
    names = set()
    for rule in style_rules(rules):
        for item in declarations(rule):
            if item.type == "declaration":
                names |= {token.value for token in flatten(item.value) if token.type in ("ident", "string")}
    return names


def flatten(tokens):
    for token in tokens:
        yield token
        if token.type == "function":
            yield from flatten(token.arguments)
        elif token.type in ("() block", "[] block", "{} block"):
            yield from flatten(token.content)


def at_rule_name_used(rule, names: set[str]) -> bool:
    """A @keyframes or @font-face stays if some kept declaration names it."""
    if rule.type != "at-rule":
        return True
    if rule.lower_at_keyword.endswith("keyframes"):  # also -webkit-keyframes, -moz-keyframes
        return any(token.value in names for token in rule.prelude if token.type in ("ident", "string"))
    if rule.lower_at_keyword == "font-face":
        return any(item.type == "declaration" and item.lower_name == "font-family" and
                   any(token.value in names for token in item.value if token.type in ("ident", "string"))
                   for item in declarations(rule))
    return True


def serialize(rule) -> str:
    if rule.type == "qualified-rule":
        return tinycss2.serialize(rule.prelude).strip() + "{" + tinycss2.serialize(rule.content).strip() + "}"
    return tinycss2.serialize([rule]).strip()
