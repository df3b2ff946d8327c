"""Made-up residents with checksum-valid ID numbers (GB 11643) for tests and benchmarks."""

from datetime import date, timedelta

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def with_check_character(body: str) -> str:
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def id_number(n: int, region: str = "220102") -> str:
    """The n-th made-up person of a region: a birth day from 1950 on and a serial, both from n."""
    born = date(1950, 1, 1) + timedelta(days=n % 20000)
    return with_check_character(f"{region}{born:%Y%m%d}{(n // 20000) % 1000:03d}")


def name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
