"""Posting the briefing to a group robot (WeCom, DingTalk): delivered only when the robot says so."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request

POST_TIMEOUT_SECONDS = 10


class NotSent(RuntimeError):
    """The webhook did not take the briefing; the message says where and why."""


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows a 302 by turning the POST into a GET, which a robot answers with a page: the
    message was never delivered. A redirect is reported, not followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects())


def webhook_problem(url: str) -> str:
    """Why this is no webhook URL ("" when it is one). Never quotes the URL: it carries the key."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the webhook URL is not an http(s) URL"
    if any(char.isspace() or ord(char) < 32 for char in url):
        return "the webhook URL contains a space or a control character"
    return ""


def _robot_errcode(answer: bytes):
    """The robot's errcode (0 = taken), or None when the reply is not a robot's JSON answer."""
    try:
        reply = json.loads(answer)
    except ValueError:
        return None
    code = reply.get("errcode") if isinstance(reply, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def post(url: str, message: dict, *, attempts: int = 4, first_wait: float = 1.0) -> None:
    """POST the message; retry with doubling waits; NotSent unless the robot answered with JSON
    whose errcode is 0 (WeCom and DingTalk both answer so). A refusal (a non-zero errcode, a
    redirect, a 4xx) is not retried. No message or traceback carries the URL, which holds the key."""
    problem = webhook_problem(url)
    if problem:
        raise NotSent(problem)
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    for attempt in range(attempts):
        if attempt:
            time.sleep(first_wait * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with _OPENER.open(request, timeout=POST_TIMEOUT_SECONDS) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code} {error.reason}"
            if 300 <= error.code < 400:
                raise NotSent(f"the webhook answered with a redirect ({problem}), not followed") from None
            if error.code < 500 and error.code != 429:
                break
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            # Named by its reason or type only: str() of some of these quotes the URL.
            reason = getattr(error, "reason", error)
            problem = getattr(reason, "strerror", None) or type(reason).__name__
            continue
        errcode = _robot_errcode(answer)
        if errcode is None:
            raise NotSent("the webhook's reply was not a robot's JSON answer with an errcode: not delivered")
        if errcode:
            raise NotSent(f"the webhook refused the briefing (errcode {errcode})")
        return
    raise NotSent(f"the webhook did not take the briefing after {attempt + 1} attempt(s): {problem}")
