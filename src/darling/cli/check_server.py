"""``darling check-server``: check a served partition classifier against its checkpoint, with the fix for each failure."""

from __future__ import annotations

from darling.cli._common import new_parser

EXAMPLES = """\
  # the classifier server "returns 404": which endpoint, which model names, which classes?
  darling check-server http://node1:8000 --classifier dogtooth/similarity-classifier-f168-hf
  # with the served model name the judge will send, and the weights here: do probabilities match?
  darling check-server http://node1:8000 --classifier classifiers/modernbert --model partition-classifier
  # an SGLang server (/v1/classify)
  darling check-server http://node1:30000 --classifier classifiers/xlmr --engine sglang"""


def add_parser(subparsers) -> None:
    parser = new_parser(
        subparsers,
        "check-server",
        help="check that a vLLM/SGLang server serves a partition classifier as darling expects",
        description=(
            "Checks a classifier server step by step: that it answers (GET /v1/models) and which model names "
            "it serves, that the model name exists, that the classification endpoint exists and takes token "
            "ids, that it answers two classes, and, when the checkpoint's weights are at hand, that a few "
            "pairs' served probabilities equal the in-process ones. Prints each check with the fix for a "
            "failure; exits 0 when every check passes, 1 otherwise."
        ),
        examples=EXAMPLES,
    )
    parser.add_argument("url", help="the server's base URL, e.g. http://node1:8000")
    parser.add_argument(
        "--classifier",
        required=True,
        help="the classifier checkpoint the server should serve (folder or hub id)",
    )
    parser.add_argument(
        "--model", default=None, help="the --served-model-name the judge sends (default: the only one)"
    )
    parser.add_argument(
        "--engine", choices=("vllm", "sglang"), default="vllm", help="default: vllm (/classify)"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help="largest served-minus-in-process probability difference that passes (default: 1e-4; fp32 gives ~1e-7)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds a request may take (default: 30)"
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    from darling.serving.check import check_server

    checks = check_server(
        args.url,
        args.classifier,
        model=args.model,
        engine=args.engine,
        tolerance=args.tolerance,
        timeout=args.timeout,
    )
    for check in checks:
        print(check)
    return 0 if all(check.ok for check in checks) else 1
