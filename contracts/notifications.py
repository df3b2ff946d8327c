"""Events of the people to reach (第十八条, 第二十一条): the liaison register of districts and divisions.

They belong to alerting's context (its topic), which delivers the notifications the register is read for."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import DomainEvent

UnitKind = Literal["district", "division"]


class Person(BaseModel):
    """One person of the register: 责任领导 or 具体联络人员."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50, description="姓名", examples=["张三"])
    post: str = Field(min_length=1, max_length=100, description="职务", examples=["副局长"])
    phone: str = Field(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9-]{4,19}$",
                       description="联系电话: a mobile number receives SMS", examples=["13800000000"])
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="电子邮箱",
                              examples=["zhangsan@example.gov.cn"])


class LiaisonsSet(DomainEvent):
    """A district's (or division's) responsible leader and contact person were named or changed (第十八条)."""

    event_type: ClassVar[str] = "alerting.LiaisonsSet"
    context: ClassVar[str] = "alerting"

    unit: str = Field(description="An org unit code of a district or development zone, or a division code.",
                      examples=["220102"])
    unit_kind: UnitKind
    leader: Person = Field(description="责任领导")
    contact: Person = Field(description="具体联络人员")
    set_by: str
    at: datetime
