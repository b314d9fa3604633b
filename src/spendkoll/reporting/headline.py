"""The demo's headline figures, read from the marts, beside the review's figures.

Definitions (the KPI marts will carry the same ones):
* supplier loyalty (leverantörstrohet): addressable spend whose supplier had a
  contract active on the posting date / addressable spend;
* small-invoice share: invoices (supplier + invoice number, lines and credit
  notes netted) under SEK 10,000 / all invoices;
* tail share: spend of the smallest 94 % of suppliers (by spend) / all spend
  with a supplier id;
* e-commerce share: spend on lines whose invoice an e-commerce order carries /
  all spend.
"""

from __future__ import annotations

from spendkoll.paths import DataDir
from spendkoll.warehouse import reader

HEADLINE_SQL = """
with spend as (select * from marts.fct_spend),
invoices as (
    select supplier_key, invoice_number, sum(amount) as amount
    from spend where invoice_number is not null group by all
),
suppliers as (
    select supplier_key, sum(amount) as amount,
           row_number() over (order by sum(amount)) as rn, count(*) over () as n
    from spend where supplier_key is not null group by supplier_key
)
select
    (select sum(amount) filter (where has_active_contract) / sum(amount)
       from spend where spend_class = 'addressable') as loyalty,
    (select avg(case when amount < 10000 then 1.0 else 0.0 end) from invoices) as small,
    (select sum(amount) filter (where rn <= 0.94 * n) / sum(amount) from suppliers) as tail,
    (select sum(amount) filter (where via_ecommerce) / sum(amount) from spend) as ecommerce,
    (select count(distinct contract_id) from staging.stg_raw__contracts) as contracts
"""

TARGETS = (
    ("Supplier loyalty (leverantörstrohet)", "loyalty", "near 90 % (92 % target)"),
    ("Invoices under SEK 10,000", "small", "about 79 %"),
    ("Spend of the smallest 94 % of suppliers", "tail", "about 20 %"),
    ("Spend through e-commerce", "ecommerce", "about 5 %"),
)


def headline(data: DataDir) -> dict[str, float]:
    con = reader(data.warehouse)
    try:
        row = con.execute(HEADLINE_SQL).fetchone()
    finally:
        con.close()
    assert row is not None
    keys = ("loyalty", "small", "tail", "ecommerce", "contracts")
    return {k: float(v) for k, v in zip(keys, row, strict=True)}


def print_headline(data: DataDir) -> None:
    figures = headline(data)
    print("\nHeadline figures from marts.fct_spend (2017 review of Region Jämtland Härjedalen "
          "beside them):")
    for label, key, target in TARGETS:
        print(f"  {label:<42}{figures[key]:>8.1%}   review: {target}")
    print(f"  {'Contracts in the register':<42}{figures['contracts']:>8.0f}   "
          "review: 400-500")
