"""Reading the YAML data files, strictly."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from rules.errors import DataError

DATA_DIR = Path(__file__).parent / "data"


#: libyaml's parser where PyYAML was built with it (its wheels are): the rules load in every
#: process the app starts, and the C parser reads them about five times faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 booleans: only true/false.

    YAML 1.1 reads an unquoted yes, no, on or off as a boolean. In a questionnaire whose
    answers are "yes" and "no", that would silently turn a choice value into True/False.
    """


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _StrictLoader.yaml_implicit_resolvers.setdefault(_first, []).append(
        ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
    )


def load_yaml(path: Path) -> object:
    """Parse one data file; a syntax error becomes a DataError naming the file."""
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_StrictLoader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.YAMLError as error:
        raise DataError(f"{path.name}: not valid YAML: {error}") from error
    except OSError as error:
        raise DataError(f"{path.name}: cannot be read: {error.strerror}") from error
