"""Measurement 4, signed rows: mutual TLS and WS-Security signing, as production sends.

Production signs every request with an OCES3 organisation certificate (RSA-3072) and speaks
mutual TLS. For each key size (3072 and 2048 bits) the bench issues a throwaway PKI
(`benchmarks.pki`) and runs the simulator with HTTPS, `--client-ca` and
`--require-signature`; the client certificate both opens TLS and signs. Rows:

- the scheduler and journal at concurrency 32, +50 ms latency (as measurement 4's own line),
  signed by the WS-Security template (`batch.service.wsse_template`);
- the same signed by zeep's own pipeline for every message, as before the template;
- the same with signing in a pool of two worker processes (`benchmarks.pool_signing`);
- a signed request's client CPU split into its phases (`signed-breakdown`, no latency), with
  zeep's whole pipeline timed on the same envelopes beside it.

Goal (issue 18): client CPU a request at c32 <= the bare RSA signature's cost + 0.5 ms, the
bare signature measured with `cryptography` in the same run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchmarks.common import Line, Simulator, Task, Verdict, rounds
from benchmarks.pki import make_pki

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from benchmarks.common import Context, Section
    from benchmarks.pki import BenchPki

__all__ = ["KEY_SIZES", "measure_signed"]

KEY_SIZES = (3072, 2048)
CONCURRENCY = 32
MARGIN_MS = 0.5  # the goal: bare RSA signature + this
PHASES = {
    "envelope_ms": "envelope: zeep's template, filled",
    "wsse_header_ms": "WS-Security header: the template copied, ids and times filled",
    "c14n_digest_ms": "C14N + digests of Body and Timestamp (lxml, hashlib)",
    "rsa_sign_ms": "C14N of SignedInfo + RSA signature (cryptography)",
    "serialize_ms": "serialize the signed envelope (lxml)",
    "tls_http_ms": "TLS + HTTP exchange (urllib3, kept-alive mTLS)",
    "answer_ms": "answer: the reply read",
}


def _options(pki: BenchPki) -> list[str]:
    return [
        *("--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key)),
        *("--client-ca", str(pki.ca), "--require-signature"),
    ]


def _secure(pki: BenchPki) -> dict[str, str]:
    return {"ca": str(pki.ca), "cert": str(pki.client_cert), "key": str(pki.client_key)}


def _labels(bits: int) -> tuple[str, str, str]:
    """The lines' labels: the template signing, zeep's pipeline signing, a process pool."""
    base = f"scheduler+journal, c{CONCURRENCY}, mTLS + signed RSA-{bits}"
    return base, f"{base}, zeep's pipeline (before)", f"{base}, signing in 2 processes"


def measure_signed(
    ctx: Context,
    registry: Path,
    section: Section,
    figures: Callable[[dict[str, Any]], dict[str, Any]],
    latency_ms: float,
) -> None:
    """Add the signed lines, their verdicts and the per-phase table to measurement 4."""
    rows = ctx.size(2_000, 40)
    phases: dict[int, dict[str, Any]] = {}
    for bits in KEY_SIZES:
        pki = make_pki(ctx.scratch / f"pki-{bits}", bits)
        args = {"rows": rows, "concurrency": CONCURRENCY, "secure": _secure(pki)}
        threads, zeep, pooled = _labels(bits)
        with Simulator(latency_ms=latency_ms, registry=registry, options=_options(pki)) as sim:
            tasks = [
                Task(threads, "engine", {"wsdl": sim.wsdl, **args}),
                Task(zeep, "engine-zeep-signed", {"wsdl": sim.wsdl, **args}),
                Task(pooled, "engine-pool-signed", {"wsdl": sim.wsdl, **args}),
            ]
            medians = rounds(tasks, ctx.runs)
        section.lines += [Line(task.label, figures(medians[task.label])) for task in tasks]
        phases[bits] = _breakdown(ctx, registry, pki)
        _verdicts(section, bits, phases[bits])
    section.extra["tables"] = [_phase_table(phases)]
    section.notes.append(
        "signed lines: HTTPS with a client certificate (mutual TLS) and every request "
        "signed (WS-Security, RSA-SHA256, exclusive C14N of Body and Timestamp) with that "
        "certificate's key, as with an OCES3 organisation certificate; CPU counts the signing "
        "workers' CPU too in the process-pool line."
    )


def _breakdown(ctx: Context, registry: Path, pki: BenchPki) -> dict[str, Any]:
    rows = ctx.size(1_000, 100)
    with Simulator(latency_ms=0.0, registry=registry, options=_options(pki)) as sim:
        args = {"wsdl": sim.wsdl, "rows": rows, "secure": _secure(pki)}
        label = f"signed request by phase, RSA-{pki.bits}"
        return rounds([Task(label, "signed-breakdown", args)], ctx.runs)[label]


def _verdicts(section: Section, bits: int, phases: dict[str, Any]) -> None:
    threads, zeep, pooled = _labels(bits)
    lines = {line.label: line.figures for line in section.lines}
    bare = phases["rsa_cryptography_ms"]
    wanted = f"{bare + MARGIN_MS:.2f} (RSA {bare:.2f} + {MARGIN_MS:g})"
    section.verdicts += [
        Verdict.at_most(
            f"client CPU ms/req, c{CONCURRENCY}, mTLS + signed RSA-{bits}",
            lines[threads]["CPU ms/req"],
            bare + MARGIN_MS,
            wanted=wanted,
        ),
    ]
    pool, alone = lines[pooled]["CPU ms/req"], lines[threads]["CPU ms/req"]
    before = lines[zeep]["CPU ms/req"]
    section.notes.append(
        f"RSA-{bits}: the WS-Security template costs {alone:.2f} CPU ms/req against "
        f"{before:.2f} with zeep's pipeline signing every message ({before - alone:+.2f} saved)."
    )
    verdict = "pays" if pool < alone else "does not pay: not kept"
    section.notes.append(
        f"RSA-{bits}: signing in 2 worker processes costs {pool:.2f} CPU ms/req against "
        f"{alone:.2f} with the worker threads signing ({verdict}); cryptography releases "
        "the GIL while it signs, so threads already sign on both cores."
    )


def _phase_table(phases: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Phases as rows, key sizes as columns; the sum and the bare signature below."""
    sizes = sorted(phases, reverse=True)
    rows = [[label, *(phases[bits][key] for bits in sizes)] for key, label in PHASES.items()]
    rows.append(["signed request, all phases", *(sum(phases[b][k] for k in PHASES) for b in sizes)])
    rows.append(
        ["bare RSA signature (cryptography)", *(phases[b]["rsa_cryptography_ms"] for b in sizes)]
    )
    wsse = ("wsse_header_ms", "c14n_digest_ms", "rsa_sign_ms")
    rows.append(
        ["WS-Security by the template, whole", *(sum(phases[b][k] for k in wsse) for b in sizes)]
    )
    rows.append(
        [
            "WS-Security by zeep's pipeline, whole (before; same envelopes)",
            *(phases[b]["zeep_wsse_ms"] for b in sizes),
        ]
    )
    rows.append(
        [
            "WS-Security by the template signed by xmlsec instead (same envelopes)",
            *(phases[b]["xmlsec_template_ms"] for b in sizes),
        ]
    )
    return {
        "title": "signed request, client CPU ms by phase (sequential, warm, no latency)",
        "headers": ["phase", *(f"RSA-{bits}" for bits in sizes)],
        "rows": rows,
    }
