"""mask_contacts: phone numbers, e-mail addresses and ID-card numbers inside free text."""

import pytest

from app.reports.masking import mask_contacts

MASKED = [
    # mobiles
    ("请致电13812345678联系我", "请致电138****5678联系我"),
    ("手机：138-1234-5678。", "手机：138****5678。"),
    ("手机 138 1234 5678", "手机 138****5678"),
    ("+8613912345678", "+86139****5678"),
    ("+86 19912345678", "+86 199****5678"),
    ("电话15000000000，或17712345678", "电话150****0000，或177****5678"),
    ("13812345678", "138****5678"),
    # landlines
    ("办公电话010-12345678", "办公电话010-****5678"),
    ("请拨0917-1234567转802", "请拨0917-****4567转802"),
    ("（0917）1234567", "（0917）****4567"),
    ("(010) 87654321", "(010) ****4321"),
    ("总机020 87654321", "总机020 ****4321"),
    ("座机01012345678", "座机010****5678"),
    # e-mail
    ("邮箱zhang.san@example.com。", "邮箱z***@example.com。"),
    ("写信给 li_si+gov@mail.sx.gov.cn 谢谢", "写信给 l***@mail.sx.gov.cn 谢谢"),
    ("邮箱：Wang@QQ.COM", "邮箱：W***@QQ.COM"),
    # ID-card numbers, with X
    ("身份证号11010519491231002X，请核实", "身份证号110***********002X，请核实"),
    ("身份证610103199001011234", "身份证610***********1234"),
    ("号码11010519491231002x", "号码110***********002X"),
    # several in one text
    (
        "我叫张三，电话13812345678，邮箱a@b.cn，身份证11010519491231002X。",
        "我叫张三，电话138****5678，邮箱a***@b.cn，身份证110***********002X。",
    ),
]

KEPT = [
    "网站标识码6108000003的首页无法访问",
    "标识码bm07000001、BT00000001、12BM010001",
    "2026-11-20发布的通知",
    "2026年11月20日14:30",
    "20261120",
    "https://www.shaanxi.gov.cn/zfxxgk/tzgg/202609/t20260915_13812345678.html 打不开",
    "见 http://jyj.jia.example.gov.cn/xxgk/2026/11/t20261120_01012345678.html",
    "www.gov.cn/zhengce/13912345678/content.htm",
    "查询码K7M4Q9T2XW8R3HPA",
    "历史留言GOV13812345678",
    "文号陕政办发〔2026〕12号",
    "第12345678901234567890条",  # 20 digits: no number of any kind
    "123456789012",
    "1101051949123100210",  # 19 digits: not an ID-card number
    "邮编710003，人口1380万",
    "400-810-8888",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_contact_details_are_masked(text, expected):
    assert mask_contacts(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_what_is_not_a_contact_detail_is_left_alone(text):
    assert mask_contacts(text) == text


def test_a_url_is_kept_while_the_phone_beside_it_is_masked():
    text = "页面https://a.gov.cn/t13812345678.html有错，请回电13812345678。"
    assert mask_contacts(text) == "页面https://a.gov.cn/t13812345678.html有错，请回电138****5678。"


def test_masking_twice_changes_nothing_more():
    once = mask_contacts(MASKED[-1][0])
    assert mask_contacts(once) == once
