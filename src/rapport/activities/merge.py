"""Mail merge: email templates are Jinja2, rendered in its sandbox with only the data passed in.

A template names what it uses: ``{{ contact.first_name }}``, ``{{ last_order.total }}``,
``{{ user.first_name }}``, ``{{ business.name }}`` (``NAMES`` lists every one). A value the
person does not have (no first name, no order yet) is *missing*, not empty: printing it is an
error unless the template gives a default, ``{{ contact.first_name | default("there") }}``,
and ``{% if last_order %}`` is simply false. So a template is checked twice:

- when it is saved (``check``): its syntax, and every variable against ``NAMES``, each error
  with its line, then a render against a sample person who has everything;
- when it is sent (``render``): against the real person, where a missing value without a
  default is an error naming its line and variable, before anything is queued.

Plain text only (no autoescaping: nothing is HTML). The sandbox refuses attribute tricks
(``__class__``…), and the context holds only dicts, lists, strings and numbers.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

# Every variable a template may use, and the attributes each has. ``contact.custom`` holds the
# person's custom fields by key (any key may be asked for; a missing one is missing).
NAMES: dict[str, tuple[str, ...]] = {
    "contact": ("first_name", "last_name", "name", "email", "job_title", "company",
                "preferences", "custom"),
    "last_order": ("date", "total", "lines", "products"),
    "user": ("first_name", "last_name", "name", "email"),
    "business": ("name",),
}
# How much a rendered template may grow (a loop over a loop cannot fill the mailbox).
MAX_OUTPUT = 100_000
# The file name Jinja gives a template made from a string (its frames in a traceback).
TEMPLATE_NAME = "<template>"


class Missing(StrictUndefined):
    """A value the person does not have: false in ``{% if %}``, replaced by ``default``,
    an error anywhere else."""

    def __bool__(self) -> bool:
        return False


class _Environment(SandboxedEnvironment):
    """The sandbox, also refusing ``"x" * 10**10`` and ``9 ** 9 ** 9`` before they are
    computed."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 100:
            raise SecurityError("the power is too large")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int) and \
                        len(sequence) * times > MAX_OUTPUT:
                    raise SecurityError("the result would be too long")
        return super().call_binop(context, operator, left, right)


ENV = _Environment(undefined=Missing, autoescape=False, keep_trailing_newline=True,
                   trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Problem:
    """What is wrong with a template, for a person: ``line 3: unknown variable 'cntact'``."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class TemplateProblem(ValueError):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def _parse(source: str) -> nodes.Template:
    try:
        return ENV.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateProblem(Problem(error.lineno, error.message or "broken syntax")) from None


def _assigned(tree: nodes.Template) -> set[str]:
    """Names the template sets itself (loop variables, ``{% set %}``, macros)."""
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    names |= {m.name for m in tree.find_all(nodes.Macro)}
    return names


def _check_names(tree: nodes.Template) -> None:
    local = _assigned(tree)
    for name in sorted(tree.find_all(nodes.Name), key=lambda n: n.lineno):
        if name.ctx != "load" or name.name in local:
            continue
        if name.name not in NAMES:
            known = ", ".join(NAMES)
            raise TemplateProblem(Problem(name.lineno, f"unknown variable '{name.name}' "
                                                       f"(a template may use {known})"))
    for attr in sorted(tree.find_all(nodes.Getattr), key=lambda n: n.lineno):
        owner = attr.node
        if isinstance(owner, nodes.Name) and owner.name in NAMES and owner.name not in local \
                and attr.attr not in NAMES[owner.name]:
            known = ", ".join(NAMES[owner.name])
            raise TemplateProblem(Problem(attr.lineno, f"unknown variable "
                                                       f"'{owner.name}.{attr.attr}' "
                                                       f"({owner.name} has {known})"))


def _template_line(error: BaseException) -> int | None:
    """The template line an error was raised at (Jinja rewrites its traceback so the frames of
    the template carry the template's name and line numbers)."""
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == TEMPLATE_NAME:
            line = lineno
    return line


def _missing_name(error: UndefinedError) -> str:
    message = error.message or ""
    # Jinja says "'dict object' has no attribute 'first_name'" or "'x' is undefined".
    if "has no attribute" in message:
        return message.rsplit("'", 2)[-2]
    return message.split("'")[1] if message.count("'") >= 2 else message


def render(source: str, context: Mapping[str, Any]) -> str:
    """The template rendered with ``context``, or TemplateProblem naming the line."""
    tree = _parse(source)
    _check_names(tree)
    try:
        template = ENV.from_string(tree)
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateProblem(Problem(None, f"renders to more than {MAX_OUTPUT} "
                                                    "characters"))
            chunks.append(chunk)
        return "".join(chunks)
    except TemplateProblem:
        raise
    except UndefinedError as error:
        what = _missing_name(error)
        raise TemplateProblem(Problem(
            _template_line(error),
            f"no value for '{what}' for this person, and no default "
            f"(write {{{{ … | default(\"…\") }}}})")) from None
    except SecurityError as error:
        raise TemplateProblem(Problem(_template_line(error), f"not allowed: {error}")) from None
    except TemplateError as error:
        raise TemplateProblem(Problem(getattr(error, "lineno", None) or _template_line(error),
                                      str(error))) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise TemplateProblem(Problem(_template_line(error), str(error))) from None


SAMPLE: dict[str, Any] = {
    "contact": {"first_name": "Anna", "last_name": "Berg", "name": "Anna Berg",
                "email": "anna@example.com", "job_title": "Manager", "company": "Alder Café",
                "preferences": ["no sesame"], "custom": {}},
    "last_order": {"date": "3 March 2026", "total": "18.50",
                   "lines": [{"product": "Rye sourdough", "quantity": 2, "price": "4.50"}],
                   "products": "Rye sourdough"},
    "user": {"first_name": "Sam", "last_name": "Reed", "name": "Sam Reed",
             "email": "sam@example.com"},
    "business": {"name": "The Bakery"},
}


def check(source: str) -> None:
    """Raise TemplateProblem unless the template is well formed, uses only known variables
    and renders for a person who has every value."""
    render(source, SAMPLE)
