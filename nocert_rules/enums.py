"""Closed vocabularies shared by every module (the words of the list and of a decision)."""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """How a required certificate is handled (二(二); 三(三)1-3; 附件2 第九条)."""

    ABOLISH = "ABOLISH"  # 直接取消
    DATA_SHARING = "DATA_SHARING"  # 数据共享
    PLEDGE = "PLEDGE"  # 告知承诺
    VERIFICATION = "VERIFICATION"  # 部门核验
    PROXY = "PROXY"  # 干部代办
    APPLICANT_PROVIDED = "APPLICANT_PROVIDED"  # 申请人自行提供


class ReplacementMethod(StrEnum):
    """The replacement methods a row of the list may allow (三(一)2)."""

    DATA_SHARING = "data_sharing"
    PLEDGE = "pledge"
    VERIFICATION = "verification"

    @property
    def method(self) -> Method:
        return Method[self.name]


class RecordKind(StrEnum):
    """How the issuing unit keeps the records; sets the verification reply limit (附件2 第七条)."""

    ELECTRONIC = "electronic"  # 数据库或电子化存储: 30 分钟
    PAPER = "paper"  # 纸质档案: 1 个工作日
    INCOMPLETE_ARCHIVE = "incomplete_archive"  # 因历史原因档案不全: 2 个工作日


class RowStatus(StrEnum):
    RETAINED = "retained"  # 保留
    ABOLISHED = "abolished"  # 取消


class ApplicantKind(StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


class CreditLevel(StrEnum):
    TRUSTWORTHY = "trustworthy"  # 守信
    NORMAL = "normal"  # 一般
    UNTRUSTWORTHY = "untrustworthy"  # 失信
