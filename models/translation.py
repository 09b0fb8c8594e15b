"""English the models hand to people (error messages, the labels of choices) is
the message id the web layer translates when it shows it (web/i18n.py): the
models never translate. A string kept in a module-level table is marked with
`N_` so that `pybabel extract` finds it; `N_` changes nothing."""

from __future__ import annotations


def N_(message: str) -> str:
    return message
