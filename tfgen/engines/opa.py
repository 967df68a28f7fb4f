"""The OPA server engine: `POST /v1/data/main/report` over one requests session."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from tfgen.bundle import check_provenance, compare_modules, upload_modules
from tfgen.engines.base import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Decision,
    decision,
    encode_input,
)
from tfgen.errors import EngineError, InputError
from tfgen.rulepack import ENTRYPOINT, RulePack

_CONNECT_TIMEOUT = 5.0
_POLICY_PREFIX = "tfgen/"


class OpaServerEngine:
    """A running OPA server that proves it serves this pack; never falls back to another engine.

    The proof is the bundle revision in each decision's provenance (the pack digest), or, with
    `load_pack`, the server's policy modules read back and compared with the pack's.
    """

    name = "opa"

    def __init__(
        self,
        url: str | None,
        pack: RulePack,
        rule_config: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        load_pack: bool = False,
    ) -> None:
        if not url:
            raise InputError("url", "the opa engine needs a server URL")
        # The URL as printed never carries user:password; those become basic auth instead.
        self.url, auth = without_userinfo(url.rstrip("/"))
        if auth is not None and token:
            raise InputError(self.url, "give either user:password in the URL or a token, not both")
        self._pack = pack
        self._timeout = timeout
        self._notices: list[str] = []
        self._config = dict(rule_config or {})
        # The configuration reports must echo: None when the server refused it (defaults apply).
        self._expected_config: dict[str, Any] | None = None
        self._loaded = load_pack
        self._opa_version = "unknown"
        self._port = _port(self.url)
        self._token = token or None
        self._session = _session(token, retries)
        self._timeouts = (min(_CONNECT_TIMEOUT, timeout), timeout)
        if auth is not None:
            self._session.auth = auth
        # Proxy and TLS settings from the environment, read once rather than on every request.
        self._settings = self._session.merge_environment_settings(self.url, {}, None, None, None)
        self._decision_headers = {"Content-Type": "application/json"}
        if _on_this_host(self.url):
            # A decision is ~30 KB of JSON: compressing it costs both sides more CPU than
            # loopback saves.
            self._decision_headers["Accept-Encoding"] = "identity"
        try:
            if load_pack:
                self._load_pack()
            self._configure()
        except BaseException:
            self.close()
            raise

    def evaluate(self, plan: Mapping[str, Any]) -> Decision:
        result, revision = self._query(plan)
        if self._expected_config is not None and result.get("config") != self._expected_config:
            # The server lost data.tfgen_config (e.g. it restarted): set it again, ask once more.
            self._configure()
            result, revision = self._query(plan)
        checked = decision(result, f"OPA at {self.url}", self._expected_config)
        if revision:
            checked["revision"] = revision
        return checked

    def _query(self, plan: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """The report for one plan, and the revisions of the bundles that judged it."""
        url = f"{self.url}/v1/data/{ENTRYPOINT}?provenance=true"
        data = b'{"input":' + encode_input(plan) + b"}"
        body = self._request("post", url, data=data, headers=self._decision_headers)
        revision = ""
        if isinstance(body, dict) and isinstance(body.get("provenance"), dict):
            self._opa_version = str(body["provenance"].get("version", "unknown"))
            revision = bundle_revisions(body["provenance"])
        if not isinstance(body, dict) or "result" not in body:
            raise EngineError(
                f"OPA at {self.url}: decision {ENTRYPOINT} is undefined: "
                "the tfgen rule pack is not loaded on that server"
            )
        if not self._loaded:
            # Before the result is looked at: a server with another pack proves nothing else.
            check_provenance(body.get("provenance"), self._pack, f"OPA at {self.url}")
        result = body["result"]
        if not isinstance(result, dict):
            raise EngineError(f"OPA at {self.url}: data.main.report is not an object")
        return result, revision

    def versions(self) -> dict[str, str]:
        """From the decisions' provenance: no request, so a hung server costs no second wait."""
        return {"engine": self.name, "opa": self._opa_version, "opa_url": self.url}

    def notices(self) -> tuple[str, ...]:
        return tuple(self._notices)

    def close(self) -> None:
        self._session.close()

    def healthy(self) -> bool:
        """Whether `GET /health` answers 200, asked through opa-python-client."""
        # Imported here: it brings aiohttp (~0.1 s), which evaluating plans never needs.
        from opa_client import OpaClient

        parts = urlsplit(self.url)
        client = OpaClient(
            host=parts.hostname or "",
            port=self._port,
            ssl=parts.scheme == "https",
            token=self._token,
            timeout=self._timeouts[1],
        )
        client.timeout = self._timeouts
        client._session.auth = self._session.auth  # user:password from the URL, if any
        try:
            return bool(client.check_health(diagnostic_url=f"{self.url}/health"))
        finally:
            client.close_connection()

    def _configure(self) -> None:
        """Set data.tfgen_config if the server lets us; otherwise the rules' defaults apply.

        A plain PUT: update_or_create_data hides the status code that tells a refusal (rules'
        defaults apply) from an outage (an error).
        """
        response = self._send("put", f"{self.url}/v1/data/tfgen_config", json=self._config)
        if response.status_code == 204:
            self._expected_config = self._config
            return
        if response.status_code in (502, 503, 504):
            raise EngineError(f"OPA at {self.url} answered HTTP {response.status_code}")
        self._expected_config = None
        notice = (
            f"OPA at {self.url} refused data.tfgen_config (HTTP {response.status_code}: "
            f"{_opa_message(response)}): the rules' default configuration applies"
        )
        if self._config and notice not in self._notices:
            self._notices.append(notice)

    def _load_pack(self) -> None:
        """Upload the pack's modules through the policy API in dependency order, remove modules a
        previous upload left that the pack no longer has, then read every module back.

        Plain requests: update_policy_from_string would rewrite a rejected policy as Rego v0 and
        retry, and its error drops the HTTP status.
        """
        modules = upload_modules(self._pack)
        pending = modules
        while pending:
            # A module that needs one of a later one (a cycle between packages) goes up in the
            # next pass; a pass that uploads nothing ends with the server's reason.
            rejected: list[tuple[tuple[str, str], requests.Response]] = []
            for module in pending:
                rel, text = module
                response = self._send(
                    "put",
                    f"{self.url}/v1/policies/{_POLICY_PREFIX}{rel}",
                    data=text.encode("utf-8"),
                    headers={"Content-Type": "text/plain"},
                )
                if response.status_code != 200:
                    rejected.append((module, response))
            if len(rejected) == len(pending):
                (rel, _), response = rejected[0]
                raise EngineError(
                    f"OPA at {self.url} rejected {rel} (HTTP {response.status_code}: "
                    f"{_opa_message(response)})"
                )
            pending = [module for module, _ in rejected]
        wanted = {_POLICY_PREFIX + rel for rel, _ in modules}
        held = self._policies()
        for pid in sorted(set(held) - wanted):
            if pid.startswith(_POLICY_PREFIX):
                self._send("delete", f"{self.url}/v1/policies/{pid}")
        compare_modules(self._policies(), self._pack, _POLICY_PREFIX, f"OPA at {self.url}")

    def _policies(self) -> dict[str, str]:
        """Every policy module the server holds: id -> raw text."""
        body = self._request("get", f"{self.url}/v1/policies")
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, list):
            raise EngineError(f"OPA at {self.url}: GET /v1/policies answered no module list")
        return {
            str(m.get("id")): str(m.get("raw", ""))
            for m in result
            if isinstance(m, dict) and "id" in m
        }

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        session = self._session
        try:
            prepared = session.prepare_request(requests.Request(method.upper(), url, **kwargs))
            response: requests.Response = session.send(
                prepared, timeout=self._timeouts, **self._settings
            )
        except requests.RequestException as exc:
            raise _transport_error(self.url, exc, self._timeout) from exc
        return response

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON body of a 200 answer; EngineError for anything else."""
        response = self._send(method, url, **kwargs)
        if response.status_code != 200:
            raise _http_error(self.url, response)
        try:
            return response.json()
        except ValueError as exc:
            raise EngineError(f"OPA at {self.url} answered something that is not JSON") from exc


class ServerGone(EngineError):
    """The server refused or dropped the connection: another replica may take the request."""


class OpaFleetEngine:
    """Several OPA servers serving the same pack, as one engine: requests go to each in turn, and
    one a server refused or dropped goes to the next (each server at most once per request), so
    every plan is judged exactly once or the run fails. A server that went away is left out of
    the rest of the run."""

    name = "opa"

    def __init__(
        self,
        urls: Sequence[str],
        pack: RulePack,
        rule_config: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        load_pack: bool = False,
    ) -> None:
        self._servers: list[OpaServerEngine] = []
        self._notices: list[str] = []
        self._gone: set[int] = set()
        self._lock = threading.Lock()
        self._next = 0
        self._urls = list(urls)
        try:
            for url in urls:
                try:
                    server = OpaServerEngine(
                        url,
                        pack,
                        rule_config,
                        token=token,
                        timeout=timeout,
                        retries=retries,
                        load_pack=load_pack,
                    )
                except ServerGone as exc:
                    self._notices.append(f"{exc.message}: left out of this run")
                    continue
                self._servers.append(server)
        except BaseException:
            self.close()
            raise
        if not self._servers:
            raise EngineError(f"none of the {len(urls)} OPA servers answers ({self._notices[0]})")

    def evaluate(self, plan: Mapping[str, Any]) -> Decision:
        tried: set[int] = set()
        while True:
            index = self._pick(tried)
            if index is None:
                raise EngineError(
                    f"every OPA server ({len(self._servers)}) refused or dropped the request"
                )
            tried.add(index)
            try:
                return self._servers[index].evaluate(plan)
            except ServerGone as exc:
                self._leave_out(index, exc.message)

    def _pick(self, tried: set[int]) -> int | None:
        """The next server in turn that is still in the run and not yet tried for this request."""
        with self._lock:
            for _ in range(len(self._servers)):
                index = self._next % len(self._servers)
                self._next += 1
                if index not in self._gone and index not in tried:
                    return index
        return None

    def _leave_out(self, index: int, reason: str) -> None:
        with self._lock:
            if index not in self._gone:
                self._gone.add(index)
                self._notices.append(f"{reason}: its requests went to the other servers")

    def versions(self) -> dict[str, str]:
        return {**self._servers[0].versions(), "opa_url": ", ".join(self._urls)}

    def notices(self) -> tuple[str, ...]:
        own = tuple(self._notices)
        return own + tuple(n for server in self._servers for n in server.notices() if n not in own)

    def close(self) -> None:
        for server in self._servers:
            server.close()


def bundle_revisions(provenance: Mapping[str, Any]) -> str:
    """The bundles a decision came from, as `name=revision` pairs (those with a revision)."""
    bundles = provenance.get("bundles")
    if not isinstance(bundles, dict):
        return ""
    pairs = [
        f"{name}={bundle['revision']}"
        for name, bundle in sorted(bundles.items())
        if isinstance(bundle, dict) and bundle.get("revision")
    ]
    return ",".join(pairs)


def split_urls(value: str | None) -> list[str]:
    """The servers of a comma-separated --opa-url value."""
    return [url.strip() for url in (value or "").split(",") if url.strip()]


def without_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without `user:password@`, and those credentials (None when there are none)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


def _on_this_host(url: str) -> bool:
    """Whether the URL names this machine (localhost or a loopback address)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(url: str) -> int:
    """The server's port; InputError for a URL that is not http(s)://host[:port]."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(url, "OPA URL must be http://host:port or https://host:port")
    if parts.path not in ("", "/") or parts.query:
        raise InputError(url, "OPA URL must not have a path; the API is served at /v1")
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InputError(url, f"bad port ({exc})") from exc


def _session(token: str | None, retries: int) -> requests.Session:
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    # Retry refused connections and 503 only (a 500 is a real answer), with backoff; never a
    # read timeout, which would multiply the wait on a hung server.
    retry = Retry(
        total=retries,
        connect=retries,
        read=0,
        status=retries,
        other=0,
        status_forcelist=(503,),
        allowed_methods=None,
        backoff_factor=0.5,
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _opa_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or response.reason
    if isinstance(body, dict):
        code = body.get("code", "")
        message = body.get("message", "")
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code", code)
            message = errors[0].get("message", message)
        text = " ".join(f"{code}: {message}".strip(": ").split())
        return text if len(text) <= 300 else text[:297] + "..."
    return str(body)[:200]


def _http_error(url: str, response: requests.Response | None) -> EngineError:
    if response is None:
        return EngineError(f"OPA at {url} answered with an HTTP error")
    hint = ""
    if response.status_code in (401, 403):
        hint = " (set --opa-token or TFGEN_OPA_TOKEN)"
    return EngineError(
        f"OPA at {url} answered HTTP {response.status_code}: {_opa_message(response)}{hint}"
    )


def _transport_error(url: str, exc: requests.RequestException, timeout: float) -> EngineError:
    if isinstance(exc, requests.ConnectTimeout):
        return EngineError(f"OPA at {url} is unreachable (connect timed out)")
    # Under a Retry policy requests reports a read timeout as a ConnectionError wrapping it.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.Timeout) or isinstance(reason, ReadTimeoutError):
        return EngineError(f"OPA at {url} did not answer within {timeout:g}s")
    if isinstance(exc, requests.ConnectionError):
        return ServerGone(f"OPA at {url} is unreachable (connection refused or reset)")
    return EngineError(f"OPA at {url}: request failed ({exc.__class__.__name__})")
