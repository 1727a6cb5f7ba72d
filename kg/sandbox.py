"""Take away a process's ability to open network sockets (Linux seccomp), for defence in depth.

Oxigraph evaluates ``SERVICE`` and ``LOAD`` by connecting to the URL they name. The endpoint
refuses both before running anything (`kg.sparql.guard`), but that check reads the text with its
own rules; the engine that runs the query has its own parser. This module closes the gap at the
kernel: after :func:`deny_network`, the calling process (all its threads, and every process it
starts later) gets ``EACCES`` from ``socket(2)`` for the internet and packet families, whatever
the query says. Unix-domain sockets (the worker pool's pipes) keep working, and sockets opened
before the call (a server's listening socket) are unaffected.

The filter is a classic BPF program for ``prctl(PR_SET_SECCOMP)``, built here with ctypes
because the standard library has no binding. On other systems or architectures, or where the
kernel refuses filters, :func:`deny_network` returns False and logs why; callers then rely on
the textual guard alone.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import platform
import socket
import struct
import sys

logger = logging.getLogger(__name__)

# <linux/audit.h> architecture tokens and the socket(2) syscall number for each.
_ARCHES = {
    "x86_64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
}
_X32_SYSCALL_BIT = 0x40000000
_DENIED_FAMILIES = (socket.AF_INET, socket.AF_INET6, getattr(socket, "AF_PACKET", 17))

# <linux/filter.h> opcodes and <linux/seccomp.h> constants.
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
# Offsets in struct seccomp_data: nr (int), arch (u32), instruction_pointer (u64), args[6].
_NR, _ARCH, _ARG0 = 0, 4, 16

_active = False


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(audit_arch: int, socket_nr: int) -> list[tuple[int, int, int, int]]:
    """The filter: socket(AF_INET | AF_INET6 | AF_PACKET, ...) fails with EACCES; everything
    else is allowed. A syscall from another ABI (x32, or 32-bit compat) is refused outright for
    socket() lookalikes by checking the architecture first."""
    deny = _SECCOMP_RET_ERRNO | errno.EACCES
    n = len(_DENIED_FAMILIES)
    prog: list[tuple[int, int, int, int]] = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ_K, 1, 0, audit_arch),        # our architecture: go on
        (_RET_K, 0, 0, _SECCOMP_RET_ALLOW),  # another ABI: not ours to judge (no socket calls)
        (_LD_W_ABS, 0, 0, _NR),
        (_JGE_K, 0, 1, _X32_SYSCALL_BIT),  # x32 syscall numbers: deny every one of them
        (_RET_K, 0, 0, deny),
        (_JEQ_K, 1, 0, socket_nr),
        (_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
        (_LD_W_ABS, 0, 0, _ARG0),
    ]
    for i, family in enumerate(_DENIED_FAMILIES):
        # match: jump to the deny at the end; else fall through to the next comparison
        prog.append((_JEQ_K, n - i, 0, family))
    prog.append((_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    prog.append((_RET_K, 0, 0, deny))
    return prog


def deny_network() -> bool:
    """Forbid this process (and its future children) to open internet sockets.

    Returns True when the filter is in place (also when it already was), False when this
    system cannot do it. Irreversible for the process.
    """
    global _active
    if _active:
        return True
    arch = _ARCHES.get(platform.machine())
    if not sys.platform.startswith("linux") or arch is None:
        logger.warning("network sandbox unavailable on %s/%s", sys.platform, platform.machine())
        return False
    prog = _program(*arch)
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), ctypes.cast(filters, ctypes.POINTER(_SockFilter)))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        logger.warning("network sandbox unavailable: %s", _strerror())
        return False
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        logger.warning("network sandbox unavailable: %s", _strerror())
        return False
    _active = True
    return True


def network_denied() -> bool:
    """Whether :func:`deny_network` is in force in this process."""
    return _active


def _strerror() -> str:
    code = ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)} ({code})"


def _selftest() -> None:  # pragma: no cover - a manual check: python -m kg.sandbox
    print("filter installed:", deny_network())
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except PermissionError as exc:
        print("AF_INET refused:", exc)
    a, b = socket.socketpair()
    a.sendall(struct.pack("B", 1))
    print("AF_UNIX works:", b.recv(1) == b"\x01")


if __name__ == "__main__":  # pragma: no cover
    _selftest()
