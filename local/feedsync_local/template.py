"""Read template.yaml and resolve the intrinsics the local stack needs.

The local stack takes its table, bucket, function list, environment and
state-machine substitutions from the SAM template, so the two cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(name: str, split_getatt: bool = False) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if split_getatt:
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


_SHORT_FORMS = ("Ref", "Sub", "Join", "If", "Equals", "Not", "And", "Or", "Select", "Split")
for _short in (*_SHORT_FORMS, "ImportValue", "FindInMap", "Base64", "GetAZs"):
    _CfnLoader.add_constructor(f"!{_short}", _tag("Ref" if _short == "Ref" else f"Fn::{_short}"))
_CfnLoader.add_constructor("!GetAtt", _tag("Fn::GetAtt", split_getatt=True))


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)
        return loaded


@dataclass
class Resolver:
    """Resolves Ref / GetAtt / Sub against pseudo parameters and local physical ids."""

    pseudo: dict[str, str]
    refs: dict[str, str]
    arns: dict[str, str]
    parameters: dict[str, str]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                name, attr = arg
                if attr != "Arn":
                    raise ValueError(f"GetAtt {name}.{attr} is not supported locally")
                return self.arns[name]
            if key == "Fn::Sub":
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), arg)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value

    def _ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.refs[name]

    def _sub(self, name: str) -> str:
        if name.endswith(".Arn"):
            return self.arns[name[:-4]]
        return self._ref(name)
