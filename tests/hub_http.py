"""A fake Hub behind huggingface_hub's own HTTP client: pushes run through the real HfApi code offline.

``huggingface_hub`` sends every request through the client its ``set_client_factory`` makes; the
fixture swaps in a client whose transport answers the three calls a push makes (create the repo,
pre-upload, commit) and the model-card check, and serves what was pushed back to downloads and records each commit's files and contents, decoded from the commit payload.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

COMMIT = "a" * 40


@dataclass
class FakeHub:
    """What the fake Hub received: one entry per commit, with every file's bytes."""

    commits: list[dict] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    validated: list[dict] = field(default_factory=list)
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    tokens: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization header)

    def handle(self, request):
        import httpx2

        path = request.url.path
        self.requests.append((request.method, path))
        self.tokens.append((path, request.headers.get("authorization")))
        if path == "/api/repos/create":
            body = json.loads(request.content)
            owner = body.get("organization") or "user"
            return httpx2.Response(200, json={"url": f"https://huggingface.co/{owner}/{body['name']}"})
        if path == "/api/validate-yaml":  # the client checks a model card's metadata before committing it
            self.validated.append(json.loads(request.content))
            return httpx2.Response(200, json={"errors": [], "warnings": []})
        if "/preupload/" in path:
            files = json.loads(request.content)["files"]
            return httpx2.Response(
                200,
                json={
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                    ]
                },
            )
        if "/commit/" in path:
            repo, revision = path.removeprefix("/api/models/").split("/commit/")
            lines = [json.loads(line) for line in request.content.decode().splitlines() if line.strip()]
            files = {
                line["value"]["path"]: base64.b64decode(line["value"]["content"])
                for line in lines
                if line["key"] == "file"
            }
            summary = next(line["value"]["summary"] for line in lines if line["key"] == "header")
            self.commits.append({"repo_id": repo, "revision": revision, "summary": summary, "files": files})
            self.repos.setdefault(repo, {}).update(files)
            return httpx2.Response(
                200,
                json={"commitUrl": f"https://huggingface.co/{repo}/commit/{'a' * 40}", "commitOid": "a" * 40},
            )
        if "/resolve/" in path:  # a download: HEAD for the metadata, then GET for the bytes
            repo, rest = path.lstrip("/").split("/resolve/")
            name = rest.split("/", 1)[1]
            content = self.repos.get(repo, {}).get(name)
            if content is None:
                return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"})
            headers = {
                "X-Repo-Commit": COMMIT,
                "ETag": f'"{hashlib.sha1(content).hexdigest()}"',
                "Content-Length": str(len(content)),
            }
            return httpx2.Response(200, headers=headers, content=b"" if request.method == "HEAD" else content)
        if request.method == "GET" and path.startswith("/api/models/"):  # repo info, for a snapshot download
            repo, listing, _ = path.removeprefix("/api/models/").partition("/tree/")
            repo = repo.split("/revision/")[0]
            if repo not in self.repos:
                return httpx2.Response(404, headers={"X-Error-Code": "RepoNotFound"})
            if listing:
                files = self.repos[repo].items()
                entries = [
                    {"type": "file", "path": n, "size": len(c), "oid": hashlib.sha1(c).hexdigest()}
                    for n, c in files
                ]
                return httpx2.Response(200, json=entries)
            siblings = [{"rfilename": name} for name in self.repos[repo]]
            return httpx2.Response(200, json={"id": repo, "sha": COMMIT, "siblings": siblings})
        return httpx2.Response(404, json={"error": f"the fake hub does not serve {path}"})

    @property
    def last(self) -> dict:
        assert self.commits, "nothing was pushed"
        return self.commits[-1]


def serve_fake_hub(monkeypatch, cache_dir: str) -> Iterator[FakeHub]:
    """Replaces the Hub at huggingface_hub's HTTP layer until the generator closes; yields the :class:`FakeHub`.

    Downloads land in ``cache_dir``. Test modules wrap it in a fixture:
    ``yield from serve_fake_hub(monkeypatch, str(tmp_path / "hub-cache"))``.
    """
    import httpx2
    from huggingface_hub.utils import _http

    hub = FakeHub()
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token_for_tests")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", cache_dir)
    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub.handle)))
    _http.close_session()
    try:
        yield hub
    finally:
        _http.set_client_factory(_http.default_client_factory)
        _http.close_session()
