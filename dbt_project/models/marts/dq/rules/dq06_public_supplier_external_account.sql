-- DQ06: a public-sector supplier (organisationsnummer starting with 2) on an
-- account with a history (account_min_lines) where public-sector suppliers
-- are rare (at most account_public_share_max of its lines). Charts of
-- accounts such as Kommun-Bas tell the counterparty by the account (4636x:
-- purchases from a region), so an account that mostly holds public bodies is
-- the right one for them and is not flagged.
with accounts as (
    select
        account,
        count(*) as account_lines,
        1.0 * count(*) filter (where supplier_legal_form = 'public') / count(*) as public_share
    from {{ ref('fct_spend') }}
    group by account
),

internal_rule as (
    select min(account_prefix) as account
    from {{ ref('account_mapping_rules') }}
    where
        rule_set = '{{ var("spendkoll_rule_set") }}'
        and spend_class = 'internal'
),

lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        spend.account,
        spend.supplier_key,
        accounts.account_lines,
        accounts.public_share,
        internal_rule.account as internal_account
    from {{ ref('fct_spend') }} as spend
    inner join accounts on spend.account = accounts.account
    cross join internal_rule
    where
        spend.supplier_legal_form = 'public'
        and spend.classified_by = 'public_sector_supplier'
)

select
{{ dq_rule_output('DQ06',
    '1 - public_share / ' ~ dq_threshold('DQ06', 'account_public_share_max') ~ ' / 2', 'amount',
    "'supplier_key', supplier_key, 'account', account,
     'account_lines', cast(account_lines as varchar),
     'public_pct', cast(round(100 * public_share, 1) as varchar),
     'advice_sv', case when internal_account is not null
         then 'interna köp redovisas på konto ' || internal_account || '.'
         else 'raden räknas som interna köp, inte som påverkbar spend. Kontoplanen har inget '
             || 'konto för interna köp: kontrollera om köpet ska bokas som köp från offentlig '
             || 'huvudman.' end,
     'advice_en', case when internal_account is not null
         then 'internal purchases go to account ' || internal_account || '.'
         else 'the line counts as an internal purchase, not as addressable spend. The chart '
             || 'of accounts has no account for internal purchases: check whether it should be '
             || 'booked as a purchase from a public body.' end",
    'internal_account', "'" ~ var('spendkoll_internal_category') ~ "'") }}
from lines
where
    account_lines >= {{ dq_threshold('DQ06', 'account_min_lines') }}
    and public_share <= {{ dq_threshold('DQ06', 'account_public_share_max') }}
