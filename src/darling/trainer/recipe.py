"""A DarlingConfig as a recipe file: saved to a folder, pushed to the Hub, and read back by TRL's parser.

The recipe is ``darling_config.yaml``, the format ``--config`` reads (``trl.TrlParser``): the fields
the user set (at construction or afterwards), then every other field at its default, never the
values derived from them, so reading it back gives an equal config, also in a script that sets
defaults of its own. Hub tokens are never
written, and neither are the URLs of diversity servers, which only one cluster can reach.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from pathlib import Path
from typing import Any

import yaml

RECIPE_FILE = "darling_config.yaml"
# Never written: secrets, and server URLs that only the cluster of the run can reach.
_NOT_SAVED = ("hub_token", "diversity_servers")
_HEADER = """\
# DARLING training recipe (a darling.trainer.DarlingConfig), saved by DarlingConfig.save_recipe.
# Start a run from it:  accelerate launch examples/train_math.py --config {file}
# Load it in Python:    DarlingConfig.from_recipe("<this folder or hub repo>")
"""
_SERVED_NOTE = "# The run scored diversity on served classifiers; name your servers again with --diversity_servers URL,...\n"


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except Exception:  # values whose comparison fails (arrays) count as different
        return True


def _plain(value: Any, name: str) -> Any:
    """``value`` as plain YAML data (enums by value, tuples as lists); anything else is an error."""
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item, name) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item, name) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value), name)
    raise TypeError(
        f"DarlingConfig.{name} holds a {type(value).__name__}, which a YAML recipe cannot hold; set it to plain "
        "values (numbers, strings, lists, dicts) to save the recipe."
    )


class RecipeMixin:
    """Recipe save, push and load for :class:`~darling.trainer.DarlingConfig` (which inherits them).

    The names (``save_recipe``, ``push_recipe_to_hub``, ``from_recipe``) do not clash with the
    ``push_to_hub`` field every ``TrainingArguments`` has.
    """

    def _record_given(self) -> None:
        """Called first in ``__post_init__``: the fields as given, before any is derived from another."""
        given = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.init and _differs(value, _default(field)):
                given[field.name] = value
        self._recipe_given = given

    def _record_resolved(self) -> None:
        """Called last in ``__post_init__``: the resolved values, to tell later changes from derived ones."""
        self._recipe_resolved = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def recipe(self) -> dict[str, Any]:
        """The fields a recipe file records: those set at construction or changed since, as plain data.

        Raises:
            TypeError: For a field holding an object YAML cannot hold.
        """
        given = getattr(self, "_recipe_given", {})
        resolved = getattr(self, "_recipe_resolved", {})
        values = {}
        for field in dataclasses.fields(self):
            name = field.name
            current = getattr(self, name)
            if name in resolved and _differs(current, resolved[name]):
                value = current  # changed after construction
            elif name in given:
                value = given[name]
            else:
                continue
            if field.init and name not in _NOT_SAVED and _differs(value, _default(field)):
                values[name] = _plain(value, name)
        if getattr(self, "diversity_servers", None):
            # The servers are not saved; server_options marks the recipe as served, so loading it asks for them.
            kwargs = dict(values.get("diversity_kwargs") or {})
            kwargs.setdefault("server_options", {})
            values["diversity_kwargs"] = kwargs
        return values

    def _unset_fields(self, values: dict[str, Any]) -> dict[str, Any]:
        """Every other field at its default, where ``--config`` can read the default back."""
        from trl import TrlParser

        actions = {action.dest: action for action in TrlParser((type(self),))._actions}
        defaults = {}
        for field in dataclasses.fields(self):
            if not field.init or field.name in values or field.name in _NOT_SAVED:
                continue
            value = _plain(_default(field), field.name)
            action = actions.get(field.name)
            if isinstance(value, str) and action is not None and action.type is not None:
                try:  # argparse converts a string default with the field's type: skip what it cannot read
                    action.type(value)
                except (TypeError, ValueError):
                    continue
            defaults[field.name] = value
        return defaults

    def save_recipe(self, save_directory: str | os.PathLike, *, every_field: bool = True) -> str:
        """Writes ``darling_config.yaml`` (the recipe ``--config`` reads) into a folder.

        The fields set for this config come first. With ``every_field`` (the default) every other
        field follows at its default, so a training script that sets its own defaults before
        reading ``--config`` (as the examples do) still builds this exact config; without it the
        file holds only the fields set.

        Args:
            save_directory: Target folder (created if missing).
            every_field: Also write the fields left at their defaults.

        Returns:
            The path of the written file.

        Raises:
            TypeError: For a field holding an object YAML cannot hold.
        """
        values = self.recipe()
        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        served = getattr(self, "diversity_servers", None)
        text = _HEADER.format(file=RECIPE_FILE) + (_SERVED_NOTE if served else "")
        text += "\n# Set for this run\n" + yaml.safe_dump(values, sort_keys=False, allow_unicode=True)
        if every_field:
            text += "\n# Every other field, at its default (so a script's own defaults cannot replace it)\n"
            text += yaml.safe_dump(self._unset_fields(values), sort_keys=False, allow_unicode=True)
        path = folder / RECIPE_FILE
        tmp = path.with_name(f".{RECIPE_FILE}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # a reader never sees half a recipe
        return str(path)

    def push_recipe_to_hub(self, repo_id: str, **hub_kwargs: Any) -> Any:
        """Uploads ``darling_config.yaml`` to a Hub repository (created if missing), in one commit.

        Args:
            repo_id: Target repository (a model repository: the recipe can sit beside the policy).
            **hub_kwargs: ``commit_message``, ``private``, ``token``, ``revision``, ``create_pr``.

        Returns:
            The ``huggingface_hub`` commit info.
        """
        from darling.partitioning._hub import push_saved_folder

        hub_kwargs.setdefault("commit_message", "Upload DARLING training recipe")
        return push_saved_folder(lambda folder, _repo: self.save_recipe(folder), repo_id, **hub_kwargs)

    @classmethod
    def from_recipe(
        cls,
        path_or_hub_id: str | os.PathLike,
        *,
        revision: str | None = None,
        token: str | bool | None = None,
        **overrides: Any,
    ) -> Any:
        """Reads a recipe (a ``darling_config.yaml``, its folder, or a Hub repository holding one).

        The file is read as ``--config`` reads it (``trl.TrlParser``), so the config equals the one
        a training script builds from ``--config darling_config.yaml``.

        Args:
            path_or_hub_id: A YAML file, a folder holding ``darling_config.yaml``, or a hub id.
            revision: Branch, tag or commit of a hub repository.
            token: Hub token for a private or gated repository (``None``: the logged-in user's, or ``HF_TOKEN``).
            **overrides: Fields to set instead of the recipe's (``output_dir``, ``diversity_servers``, ...).

        Returns:
            The config.

        Raises:
            ValueError: On keys that are not fields of the config, or when the recipe scored
                diversity on servers and ``diversity_servers`` is not given.
        """
        from trl import TrlParser

        location = os.fspath(path_or_hub_id)
        if os.path.isdir(location):
            location = os.path.join(location, RECIPE_FILE)
        elif not os.path.isfile(location):
            from huggingface_hub import hf_hub_download

            location = hf_hub_download(location, RECIPE_FILE, revision=revision, token=token)
        with open(location, encoding="utf-8") as handle:
            values = yaml.safe_load(handle)
        if not isinstance(values, dict):
            raise ValueError(f"{location} must hold a YAML mapping of {cls.__name__} fields.")
        env = values.pop("env", None) or {}
        if not isinstance(env, dict):
            raise ValueError(f"`env` in {location} must be a mapping of environment variables.")
        for key, value in env.items():  # as --config does
            os.environ[key] = str(value)
        parser = TrlParser((cls,))
        unknown = parser.set_defaults_with_config(**{**values, **overrides})
        if unknown:
            raise ValueError(
                f"{location} (or the overrides) set {', '.join(key.removeprefix('--') for key in unknown[::2])}, which are not {cls.__name__} fields."
            )
        (config,) = parser.parse_args_into_dataclasses(args=[])
        return config
