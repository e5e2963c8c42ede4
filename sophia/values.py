"""What a written value is: an IP address, a secret, a Kubernetes quantity, a name.

One definition of each, shared by the loader (what the input may hold), the policy rules (what
the output may hold), the importer (what it must rewrite so that the loader accepts it) and the
diff. Nothing here imports another sophia module.

IP literals. An IPv4 literal is four dot-separated numbers of one to three digits, each at most
255 (leading zeros allowed: `inet_aton` reads `010.0.0.1` as an address), standing as a token of
its own: not glued to a letter, digit, `_`, `-` or `.` on either side, though a sentence may end
with it (`... at 10.0.0.1.`). So `http://10.0.0.1:80/x`, `user@10.0.0.1` and `10.0.0.0/8` hold
one, and `v1.2.3.4`, `build-1.2.3.4`, `1.2.3.4-rc1` and `1.2.3.4.5` (versions) do not. Only a
whole token is used as a host by anything that connects, and the importer rewrites what the
loader would refuse, so both must read a string the same way; a dotted quad inside a longer word
is a version, which is where the other choice (any digits-and-dots run) went wrong. The price:
a range written with a hyphen (`10.0.0.1-10.0.0.9`, MetalLB's form) is not seen either; no field
sophia reads or writes takes one, and a CIDR range (`10.0.0.0/8`) is seen. An IPv6
literal is a run of hex groups and colons that Python's `ipaddress` accepts, not glued to a word
character, `:` or `.`. The unspecified addresses (`0.0.0.0`, `::`) are addresses ("bind to every
interface") but name no host: `host_ips` leaves them out. `tests/test_values.py` has the table.
"""

from __future__ import annotations

import ipaddress
import re

IPV4 = re.compile(r"(?<![\w.-])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\.?[\w-])")
"""A dotted quad as a token of its own (see the module docstring); `ipv4_literals` checks the numbers."""
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:.])")
"""Hex groups and colons as a token of their own (brackets around it allowed); `ip_literals` checks them."""


def ipv4_literals(text: str) -> list[str]:
    """The IPv4 addresses written in `text`, as written, in order."""
    if text.count(".") < 3:  # most strings: no address possible
        return []
    return [m.group() for m in IPV4.finditer(text) if all(int(part) <= 255 for part in m.group().split("."))]


def ip_literals(text: str) -> list[str]:
    """The IPv4 then the IPv6 addresses written in `text`, as written; the unspecified ones included."""
    found = ipv4_literals(text)
    if text.count(":") >= 2:
        for match in IPV6.finditer(text):
            try:
                ipaddress.IPv6Address(match.group())
            except ValueError:
                continue
            found.append(match.group())
    return found


def is_unspecified(address: str) -> bool:
    """Whether an address from `ip_literals` is 0.0.0.0 or :: (every interface of the machine, no host)."""
    if ":" in address:
        return ipaddress.IPv6Address(address).is_unspecified
    return all(int(part) == 0 for part in address.split("."))


def host_ips(text: str) -> list[str]:
    """The addresses of `text` that name a host: `ip_literals` less the unspecified ones."""
    return [address for address in ip_literals(text) if not is_unspecified(address)]


def replace_ipv4(text: str, address: str, by: str) -> str:
    """`text` with every IPv4 literal equal to `address` replaced by `by` (a longer one it starts, such
    as 127.0.0.12 for 127.0.0.1, is another address and stays)."""
    return IPV4.sub(lambda m: by if m.group() == address else m.group(), text)
