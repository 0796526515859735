"""The state machine's hand-offs match the step models, and the template feeds every placeholder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from feedsync import errors, models
from feedsync_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachine" / "sync.asl.json"
TEMPLATE = load_template(ROOT / "template.yaml")
ASL_TEXT = ASL_PATH.read_text(encoding="utf-8")
ASL = json.loads(ASL_TEXT)
MACHINE = TEMPLATE["Resources"]["SyncStateMachine"]["Properties"]

# Task -> (input model, output model): the contract each handler implements.
STEP_MODELS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "Fetch": (models.FetchInput, models.FetchOutput),
    "Parse": (models.ParseInput, models.ParseOutput),
    "Match": (models.MatchInput, models.MatchOutput),
    "SelectChanges": (models.SelectInput, models.MatchOutput),
    "UpdateShard": (models.UpdateInput, models.UpdateOutput),
    "Finalize": (models.FinalizeInput, models.FinalizeOutput),
    "MarkFailed": (models.FinalizeInput, models.FinalizeOutput),
    "MarkSkipped": (models.FinalizeInput, models.FinalizeOutput),
    "MarkCancelled": (models.FinalizeInput, models.FinalizeOutput),
    "MarkForReview": (models.FinalizeInput, models.FinalizeOutput),
}
HANDLER_MODULE = {
    "FetchFunctionArn": "FetchFunction",
    "ParseFunctionArn": "ParseFunction",
    "MatchFunctionArn": "MatchFunction",
    "SelectFunctionArn": "SelectFunction",
    "UpdateFunctionArn": "UpdateFunction",
    "FinalizeFunctionArn": "FinalizeFunction",
}


def _states(machine: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, state in machine["States"].items():
        found[name] = state
        if state["Type"] == "Map":
            found.update(_states(state["ItemProcessor"]))
    return found


STATES = _states(ASL)
TASKS = {n: s for n, s in STATES.items() if s["Type"] == "Task"}


def test_every_placeholder_is_substituted_by_the_template_and_none_is_unused() -> None:
    # Given the ASL's ${...} placeholders and the template's DefinitionSubstitutions
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", ASL_TEXT))
    substitutions = set(MACHINE["DefinitionSubstitutions"])
    # Then they are the same set
    assert placeholders == substitutions
    # And every substitution points at a function defined in the template
    for key, value in MACHINE["DefinitionSubstitutions"].items():
        logical = value["Fn::GetAtt"][0]
        assert TEMPLATE["Resources"][logical]["Type"] == "AWS::Serverless::Function", key


def test_every_task_has_a_model_and_a_handler() -> None:
    # Given the Task states
    # Then each has a declared contract and its Resource names a real handler module
    assert set(TASKS) == set(STEP_MODELS)
    for name, state in TASKS.items():
        key = re.fullmatch(r"\$\{(\w+)\}", state["Resource"])
        assert key, f"{name} must invoke a substituted function ARN"
        logical = HANDLER_MODULE[key.group(1)]
        code_dir = ROOT / TEMPLATE["Resources"][logical]["Properties"]["CodeUri"]
        assert "def lambda_handler" in (code_dir / "app.py").read_text(encoding="utf-8")


def _result_paths() -> dict[str, type[BaseModel]]:
    """'$.fetch' -> FetchOutput: where each step's output lands in the state."""
    paths: dict[str, type[BaseModel]] = {"$.run": models.RunRef}
    for name, state in TASKS.items():
        if state.get("ResultPath"):
            paths[state["ResultPath"]] = STEP_MODELS[name][1]
    return paths


def _annotation(model: type[BaseModel], field: str) -> Any:
    return model.model_fields[field].annotation


def test_each_task_receives_exactly_what_its_input_model_needs() -> None:
    # Given where every step's output lands in the execution state
    produced = _result_paths()
    produced["$.error"] = models.StepError
    produced["$.action"] = models.Action  # an apply's, retry's or revert's execution input
    for name, state in TASKS.items():
        if name == "UpdateShard":
            continue  # fed by the Map's ItemSelector (next test)
        model = STEP_MODELS[name][0]
        params = state["Parameters"]
        given = {k.removesuffix(".$"): v for k, v in params.items()}
        # Then every parameter is a field of the model, and every required field is given
        assert set(given) <= set(model.model_fields), name
        required = {f for f, info in model.model_fields.items() if info.is_required()}
        assert required <= set(given), name
        # And each path carries the model type the field expects
        for field, path in given.items():
            expected = _annotation(model, field)
            if not isinstance(path, str) or not path.startswith("$"):
                assert isinstance(path, expected), (name, field)  # a constant
                continue
            assert expected in (produced[path], produced[path] | None), (name, field)


def test_the_map_reads_the_match_manifest_and_feeds_update_shards() -> None:
    # Given the Distributed Map
    apply = ASL["States"]["ApplyShards"]
    reader = apply["ItemReader"]["Parameters"]
    # Then it reads the manifest and concurrency that the match step returns
    match_fields = set(models.MatchOutput.model_fields)
    for path in (reader["Bucket.$"], reader["Key.$"], apply["MaxConcurrencyPath"]):
        assert path.startswith("$.match.") and path.removeprefix("$.match.") in match_fields
    assert apply["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    # And each item becomes an UpdateInput
    selector = {k.removesuffix(".$"): v for k, v in apply["ItemSelector"].items()}
    assert set(selector) == set(models.UpdateInput.model_fields)
    assert selector["shard"] == "$$.Map.Item.Value"


def test_every_task_and_map_catches_into_mark_failed() -> None:
    for name, state in {**TASKS, "ApplyShards": ASL["States"]["ApplyShards"]}.items():
        if name in ("MarkFailed", "MarkSkipped", "MarkCancelled", "UpdateShard"):
            continue  # MarkFailed retries; a shard's failure is caught by its Map
        catchers = state.get("Catch", [])
        assert any(
            c["ErrorEquals"] == ["States.ALL"] and c["Next"] == "MarkFailed" for c in catchers
        ), name
    assert ASL["States"]["MarkFailed"]["Next"] == "RunFailed"


def test_a_cancelled_step_before_updating_ends_in_mark_cancelled() -> None:
    # Given the steps that start a run's phases (a cancel stops a run at their start)
    for name in ("Fetch", "Parse", "Match"):
        catchers = ASL["States"][name]["Catch"]
        # Then each sends RunCancelled to MarkCancelled, ahead of the catch-all
        targets = [c["Next"] for c in catchers]
        cancel = targets.index("MarkCancelled")
        assert catchers[cancel]["ErrorEquals"] == ["RunCancelled"], name
        assert cancel < targets.index("MarkFailed"), name
    assert hasattr(errors, "RunCancelled")
    assert ASL["States"]["MarkCancelled"].get("End") is True


def test_retries_name_only_transient_errors() -> None:
    transient = {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, errors.TransientError)
    }
    for name, state in TASKS.items():
        for retry in state.get("Retry", []):
            for err in retry["ErrorEquals"]:
                if name in ("MarkFailed", "MarkSkipped", "MarkCancelled"):
                    continue
                assert err in transient or err.startswith("Lambda."), (name, err)


@pytest.fixture(scope="module")
def substituted() -> str:
    text = ASL_TEXT
    for key in MACHINE["DefinitionSubstitutions"]:
        arn = f"arn:aws:lambda:us-east-1:123456789012:function:{key}"
        text = text.replace("${" + key + "}", arn)
    return text


def test_moto_asl_parser_accepts_the_substituted_definition(substituted: str) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    # When moto's ASL parser (LocalStack's grammar) parses it
    program, _ = AmazonStateLanguageParser.parse(substituted)
    # Then it yields a program that starts at Route (a run goes on to Fetch)
    assert program.start_at.start_at_name == "Route"
