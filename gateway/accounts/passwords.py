"""The password policy (口令复杂度, 等级保护 2.0 三级) and one-time passwords. No I/O.

A password has at least 8 characters from at least three of four classes (lower case, upper
case, digits, other characters), and does not contain the user name. Hashing is argon2 (`pwdlib`).
"""

import secrets

from pwdlib import PasswordHash

MIN_LENGTH = 8
MAX_LENGTH = 128
CLASSES = (("lower case letters", str.islower), ("upper case letters", str.isupper), ("digits", str.isdigit),
           ("other characters", lambda c: not c.isalnum()))
password_hash = PasswordHash.recommended()


def policy_faults(password: str, username: str) -> list[str]:
    """What keeps a new password from being accepted; empty when it is acceptable."""
    faults = []
    if len(password) < MIN_LENGTH:
        faults.append(f"must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        faults.append(f"must have at most {MAX_LENGTH} characters")
    present = [name for name, test in CLASSES if any(test(c) for c in password)]
    if len(present) < 3:
        faults.append("must mix at least three kinds of characters: lower case, upper case, digits, other "
                      f"(it has {len(present)})")
    if username and username.casefold() in password.casefold():
        faults.append("must not contain the user name")
    return faults


# Look-alike characters (0/O, 1/l/I) are left out: a one-time password is read out or copied from paper.
ONE_TIME_CLASSES = ("abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "#%+-=@^_")
ONE_TIME_LENGTH = 16


def one_time_password() -> str:
    """A random password handed to a person once (a new account, a reset), with a character of every kind;
    it must be changed at first use."""
    everything = "".join(ONE_TIME_CLASSES)
    chars = [secrets.choice(kind) for kind in ONE_TIME_CLASSES]
    chars += [secrets.choice(everything) for _ in range(ONE_TIME_LENGTH - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
