{#- The rule catalogue for mis-coded and suspicious invoice lines: one row per
    line and rule that fired. Rules, severities and on/off: seed dq_rules;
    thresholds: the spendkoll_dq_* vars (defaults below). Every rule is
    documented with an example in _quality__docs.md.
    Incremental: each rule reads, and the pre-hook deletes, only what its kind
    of evidence makes necessary (int_dq_scope): one line's rules the rebuilt
    lines, the supplier-profile rules (DQ02, DQ04, DQ05) the touched
    suppliers, the duplicate rules (DQ07, DQ08) the invoices near the touched
    ones. -#}
-- depends_on: {{ ref('int_dq_scope') }}
-- depends_on: {{ ref('int_spend_build_scope') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ spendkoll_delete_dq_scope() }}",
    post_hook="{{ spendkoll_mark_model_built() }}",
) }}
{%- set min_lines = var('spendkoll_dq_min_supplier_lines', 10) -%}
{%- set category_share_max = var('spendkoll_dq_category_share_max', 0.10) -%}
{%- set dominant_share_min = var('spendkoll_dq_dominant_share_min', 0.5) -%}
{%- set investment_size = var('spendkoll_dq_investment_size_sek', 100000) -%}
{%- set investment_min = var('spendkoll_dq_investment_min_sek', 28650) -%}
{%- set investment_supplier_min = var('spendkoll_dq_investment_supplier_share_min', 0.15) -%}
{%- set operating_supplier_max = var('spendkoll_dq_operating_supplier_investment_share_max', 0.5) -%}
{%- set duplicate_days = var('spendkoll_dq_duplicate_days', 7) -%}
{%- set foreign_name = '(GmbH|Ltd|Limited|Inc|LLC|A/S|ApS|Oy|Oyj|AG|BV|B\\.V\\.|S\\.A\\.|SRL|NV|AS)([^A-Za-z]|$)' -%}
{%- set incremental = is_incremental() %}
-- The lines each kind of rule reads. Not materialized: each rule reads only the
-- columns it needs (materializing every column of millions of lines cost more
-- than the rules).
with lines as not materialized (
    -- rules on one line (and its supplier's contracts)
    select * from {{ ref('fct_spend') }} as spend
    {%- if incremental %}
    where {{ spendkoll_in_build_scope('spend') }}
    {%- endif %}
),

profile_lines as not materialized (
    -- rules on a line against its supplier's profile
    select * from {{ ref('fct_spend') }} as spend
    {%- if incremental %}
    where exists (select 1 from {{ ref('int_spend_build_scope') }} as s where s.build_all)
       or spend.supplier_key in (
           select d.supplier_key from {{ ref('int_dq_scope') }} as d where d.kind = 'supplier')
    {%- endif %}
),

invoice_lines as materialized (
    -- rules on a supplier's invoices near in time: few columns, read once
    select spend.ledger_line_id, spend.supplier_key, spend.invoice_number, spend.amount,
        spend.verification_id, spend.posting_date, spend.posting_date_derived
    from {{ ref('fct_spend') }} as spend
    where spend.supplier_key is not null and spend.invoice_number is not null
    {%- if incremental %}
      and (exists (select 1 from {{ ref('int_spend_build_scope') }} as s where s.build_all)
           or exists (
               select 1 from {{ ref('int_dq_scope') }} as d
               where d.kind = 'read_invoice'
                 and d.supplier_key = spend.supplier_key
                 and d.invoice_number = spend.invoice_number))
    {%- endif %}
),

recomputed_invoices as (
    select supplier_key, invoice_number from {{ ref('int_dq_scope') }}
    where kind = 'recompute_invoice'
),

rules as (
    select * from {{ ref('dq_rules') }}
),

categories as (
    select * from {{ ref('category_tree') }}
),

batches as (
    select * from {{ ref('stg_raw__load_batches') }}
),

contracts as (
    select * from {{ ref('int_contract_categories') }}
),

-- supplier profile: lines per category and account, dominant category ----------
supplier_lines as (
    select supplier_key, count(*) as supplier_lines,
        sum(case when spend_class = 'investment' then 1 else 0 end) as investment_lines
    from profile_lines
    where supplier_key is not null
    group by supplier_key
),

supplier_categories as (
    select supplier_key, category_id, count(*) as category_lines
    from profile_lines
    where supplier_key is not null
    group by supplier_key, category_id
),

dominant_category as (
    select supplier_key, category_id, category_lines,
        row_number() over (partition by supplier_key order by category_lines desc, category_id)
            as category_rank
    from supplier_categories
),

supplier_accounts as (
    select supplier_key, account, spend_class, category_id, count(*) as account_lines,
        row_number() over (
            partition by supplier_key, case when spend_class = 'investment' then 1 else 0 end
            order by count(*) desc, account
        ) as account_rank_by_class,
        row_number() over (
            partition by supplier_key, category_id order by count(*) desc, account
        ) as account_rank_in_category
    from profile_lines
    where supplier_key is not null
    group by supplier_key, account, spend_class, category_id
),

profile as (
    select
        supplier_lines.supplier_key,
        supplier_lines.supplier_lines,
        1.0 * supplier_lines.investment_lines / supplier_lines.supplier_lines
            as investment_share,
        dominant_category.category_id as dominant_category_id,
        1.0 * dominant_category.category_lines / supplier_lines.supplier_lines
            as dominant_share,
        dominant_account.account as dominant_account
    from supplier_lines
    inner join dominant_category
        on dominant_category.supplier_key = supplier_lines.supplier_key
        and dominant_category.category_rank = 1
    left join supplier_accounts as dominant_account
        on dominant_account.supplier_key = dominant_category.supplier_key
        and dominant_account.category_id = dominant_category.category_id
        and dominant_account.account_rank_in_category = 1
),

top_investment_account as (
    select supplier_key, account, category_id from supplier_accounts
    where spend_class = 'investment' and account_rank_by_class = 1
),

top_operating_account as (
    select supplier_key, account, category_id from supplier_accounts
    where spend_class <> 'investment' and account_rank_by_class = 1
),

internal_rule as (
    select min(account_prefix) as account
    from {{ ref('account_mapping_rules') }}
    where rule_set = '{{ var("spendkoll_rule_set", "demo_region") }}'
      and spend_class = 'internal'
),

-- the rules ---------------------------------------------------------------------
dq01 as (
    select ledger_line_id, 'DQ01' as rule_id,
        'Konto ' || account || ' matchas inte av någon regel i regeluppsättningen.' as explanation_sv,
        'Account ' || account || ' matches no rule of the active rule set.' as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from lines
    where classified_by = 'no_rule'
),

dq02 as (
    select lines.ledger_line_id, 'DQ02' as rule_id,
        'Leverantören har ' || cast(profile.supplier_lines as varchar) || ' rader, '
            || cast(round(100 * profile.dominant_share, 0) as varchar) || ' % på '
            || dom.level3 || '; denna rad är konterad på ' || own.level3 || ' ('
            || cast(round(100.0 * supplier_categories.category_lines / profile.supplier_lines, 1)
                    as varchar) || ' %).' as explanation_sv,
        'The supplier has ' || cast(profile.supplier_lines as varchar) || ' lines, '
            || cast(round(100 * profile.dominant_share, 0) as varchar) || ' % in '
            || dom.level3 || '; this line is coded to ' || own.level3 || ' ('
            || cast(round(100.0 * supplier_categories.category_lines / profile.supplier_lines, 1)
                    as varchar) || ' %).' as explanation_en,
        profile.dominant_account as suggested_account,
        profile.dominant_category_id as suggested_category_id
    from profile_lines as lines
    inner join profile on profile.supplier_key = lines.supplier_key
    inner join supplier_categories
        on supplier_categories.supplier_key = lines.supplier_key
        and supplier_categories.category_id = lines.category_id
    inner join categories as dom on dom.category_id = profile.dominant_category_id
    inner join categories as own on own.category_id = lines.category_id
    where profile.supplier_lines >= {{ min_lines }}
      and profile.dominant_share >= {{ dominant_share_min }}
      and lines.category_id <> profile.dominant_category_id
      and 1.0 * supplier_categories.category_lines / profile.supplier_lines
          < {{ category_share_max }}
),

dq03 as (
    select lines.ledger_line_id, 'DQ03' as rule_id,
        'Avtal ' || lines.matched_contract_id || ' med leverantören gäller ' || covered.level3
            || ', inte ' || own.level3 || '.' as explanation_sv,
        'Contract ' || lines.matched_contract_id || ' with the supplier covers ' || covered.level3
            || ', not ' || own.level3 || '.' as explanation_en,
        cast(null as varchar) as suggested_account,
        covered.category_id as suggested_category_id
    from lines
    inner join (
        select contract_id, supplier_key, min(category_id) as category_id
        from contracts
        where category_id is not null
        group by contract_id, supplier_key
    ) as matched
        on matched.contract_id = lines.matched_contract_id
        and matched.supplier_key = lines.supplier_key
    inner join categories as covered on covered.category_id = matched.category_id
    inner join categories as own on own.category_id = lines.category_id
    where lines.spend_class = 'addressable'
      and lines.has_active_contract
      and not lines.contract_covers_category
),

dq04 as (
    select lines.ledger_line_id, 'DQ04' as rule_id,
        'Belopp ' || cast(lines.amount as varchar) || ' kr på driftkonto ' || lines.account
            || '; leverantörens rader är till ' || cast(round(100 * profile.investment_share, 0)
            as varchar) || ' % investeringar.' as explanation_sv,
        'Amount SEK ' || cast(lines.amount as varchar) || ' on operating account ' || lines.account
            || '; ' || cast(round(100 * profile.investment_share, 0) as varchar)
            || ' % of the supplier''s lines are investments.' as explanation_en,
        inv.account as suggested_account,
        inv.category_id as suggested_category_id
    from profile_lines as lines
    inner join profile on profile.supplier_key = lines.supplier_key
    left join top_investment_account as inv on inv.supplier_key = lines.supplier_key
    where lines.spend_class = 'addressable'
      and lines.amount >= {{ investment_size }}
      and profile.investment_share >= {{ investment_supplier_min }}
),

dq05 as (
    select lines.ledger_line_id, 'DQ05' as rule_id,
        'Belopp ' || cast(lines.amount as varchar) || ' kr på investeringskonto ' || lines.account
            || ' (under ' || cast({{ investment_min }} as varchar) || ' kr); leverantörens rader är till '
            || cast(round(100 * (1 - profile.investment_share), 0) as varchar)
            || ' % driftkostnader.' as explanation_sv,
        'Amount SEK ' || cast(lines.amount as varchar) || ' on investment account ' || lines.account
            || ' (under SEK ' || cast({{ investment_min }} as varchar) || '); '
            || cast(round(100 * (1 - profile.investment_share), 0) as varchar)
            || ' % of the supplier''s lines are operating costs.' as explanation_en,
        op.account as suggested_account,
        op.category_id as suggested_category_id
    from profile_lines as lines
    inner join profile on profile.supplier_key = lines.supplier_key
    left join top_operating_account as op on op.supplier_key = lines.supplier_key
    where lines.spend_class = 'investment'
      and abs(lines.amount) < {{ investment_min }}
      and profile.investment_share < {{ operating_supplier_max }}
),

dq06 as (
    select lines.ledger_line_id, 'DQ06' as rule_id,
        -- a rule set without an account for internal purchases (kommun_bas) gets
        -- no account to move the line to: say what spendkoll did instead
        'Offentlig leverantör (' || lines.supplier_key || ') på konto ' || lines.account
            || ' för externa köp; ' || case
                when internal_rule.account is not null
                    then 'interna köp redovisas på konto ' || internal_rule.account || '.'
                else 'raden räknas som interna köp, inte som påverkbar spend. '
                    || 'Kontoplanen har inget konto för interna köp: kontrollera om köpet '
                    || 'ska bokas som köp från offentlig huvudman.'
            end as explanation_sv,
        'Public-sector supplier (' || lines.supplier_key || ') on external-purchase account '
            || lines.account || '; ' || case
                when internal_rule.account is not null
                    then 'internal purchases go to account ' || internal_rule.account || '.'
                else 'the line counts as an internal purchase, not as addressable spend. '
                    || 'The chart of accounts has no account for internal purchases: check '
                    || 'whether it should be booked as a purchase from a public body.'
            end as explanation_en,
        internal_rule.account as suggested_account,
        '{{ var("spendkoll_internal_category", "IN-IK") }}' as suggested_category_id
    from lines
    cross join internal_rule
    where lines.classified_by = 'public_sector_supplier'
),

-- only (supplier, invoice, amount) groups booked on more than one voucher or
-- day can hold a second booking: found by a grouping, so the window sorts few rows
repeated_invoices as (
    select supplier_key, invoice_number, amount
    from invoice_lines as lines
    where supplier_key is not null and invoice_number is not null and amount <> 0
    group by supplier_key, invoice_number, amount
    having min(coalesce(verification_id, '')) <> max(coalesce(verification_id, ''))
        or min(posting_date) <> max(posting_date)
),

invoice_vouchers as (
    select
        lines.ledger_line_id, lines.supplier_key, lines.invoice_number, lines.amount,
        lines.verification_id, lines.posting_date,
        dense_rank() over (
            partition by lines.supplier_key, lines.invoice_number, lines.amount
            order by lines.posting_date, lines.verification_id
        ) as voucher_rank,
        first_value(lines.verification_id) over (
            partition by lines.supplier_key, lines.invoice_number, lines.amount
            order by lines.posting_date, lines.verification_id
        ) as first_verification_id
    from invoice_lines as lines
    inner join repeated_invoices
        on repeated_invoices.supplier_key = lines.supplier_key
        and repeated_invoices.invoice_number = lines.invoice_number
        and repeated_invoices.amount = lines.amount
),

dq07 as (
    select ledger_line_id, 'DQ07' as rule_id,
        'Faktura ' || invoice_number || ' på ' || cast(amount as varchar)
            || ' kr är redan bokförd på verifikation ' || first_verification_id || '.'
            as explanation_sv,
        'Invoice ' || invoice_number || ' of SEK ' || cast(amount as varchar)
            || ' is already booked on voucher ' || first_verification_id || '.'
            as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from invoice_vouchers
    where voucher_rank > 1
    {%- if incremental %}
      and (exists (select 1 from {{ ref('int_spend_build_scope') }} as s where s.build_all)
           or exists (select 1 from recomputed_invoices as r
                      where r.supplier_key = invoice_vouchers.supplier_key
                        and r.invoice_number = invoice_vouchers.invoice_number))
    {%- endif %}
),

invoice_totals as (
    select supplier_key, invoice_number, min(posting_date) as posting_date,
        sum(amount) as amount
    from invoice_lines as lines
    where supplier_key is not null and invoice_number is not null
      -- a file without dates says nothing about how close two invoices are
      and not posting_date_derived
    group by supplier_key, invoice_number
),

possible_duplicates as (
    select later.supplier_key, later.invoice_number, earlier.invoice_number as earlier_invoice,
        row_number() over (
            partition by later.supplier_key, later.invoice_number
            order by earlier.posting_date desc, earlier.invoice_number
        ) as pair_rank
    from invoice_totals as later
    inner join invoice_totals as earlier
        on earlier.supplier_key = later.supplier_key
        and earlier.amount = later.amount
        and earlier.invoice_number <> later.invoice_number
        and (earlier.posting_date < later.posting_date
             or (earlier.posting_date = later.posting_date
                 and earlier.invoice_number < later.invoice_number))
        and later.posting_date <= {{ dbt.dateadd('day', duplicate_days, 'earlier.posting_date') }}
    where later.amount > 0
),

dq08 as (
    select lines.ledger_line_id, 'DQ08' as rule_id,
        'Samma belopp (' || cast(lines.amount as varchar) || ' kr för fakturan) som faktura '
            || possible_duplicates.earlier_invoice || ' från samma leverantör inom '
            || cast({{ duplicate_days }} as varchar) || ' dagar.' as explanation_sv,
        'Same amount as invoice ' || possible_duplicates.earlier_invoice
            || ' from the same supplier within ' || cast({{ duplicate_days }} as varchar)
            || ' days.' as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from invoice_lines as lines
    inner join possible_duplicates
        on possible_duplicates.supplier_key = lines.supplier_key
        and possible_duplicates.invoice_number = lines.invoice_number
        and possible_duplicates.pair_rank = 1
    {%- if incremental %}
    where exists (select 1 from {{ ref('int_spend_build_scope') }} as s where s.build_all)
       or exists (select 1 from recomputed_invoices as r
                  where r.supplier_key = lines.supplier_key
                    and r.invoice_number = lines.invoice_number)
    {%- endif %}
),

foreign_named as (
    select ledger_line_id, supplier_id_status,
        coalesce({{ regex_match('supplier_name', foreign_name) }}, false) as looks_foreign
    from lines
    where supplier_id_status in ('missing', 'invalid')
),

dq09 as (
    select ledger_line_id, 'DQ09' as rule_id,
        'Organisationsnummer saknas; raden kan inte knytas till leverantör eller avtal.'
            as explanation_sv,
        'The supplier id is missing; the line cannot be linked to a supplier or a contract.'
            as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from foreign_named
    where supplier_id_status = 'missing' and not looks_foreign
),

dq10 as (
    select ledger_line_id, 'DQ10' as rule_id,
        'Ogiltigt organisationsnummer (kontrollsiffra eller form); raden kan inte knytas till avtal.'
            as explanation_sv,
        'Invalid supplier id (check digit or form); the line cannot be linked to a contract.'
            as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from foreign_named
    where supplier_id_status = 'invalid' and not looks_foreign
),

dq11 as (
    select ledger_line_id, 'DQ11' as rule_id,
        'Utländsk leverantör utan giltigt momsregistreringsnummer.' as explanation_sv,
        'Foreign supplier without a valid VAT number.' as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from foreign_named
    where looks_foreign
),

dq12 as (
    select ledger_line_id, 'DQ12' as rule_id,
        'Moms ' || cast(vat as varchar) || ' kr på ' || cast(amount as varchar) || ' kr är '
            || cast(round(100.0 * vat / amount, 1) as varchar)
            || ' %, ingen svensk momssats.' as explanation_sv,
        'VAT SEK ' || cast(vat as varchar) || ' on SEK ' || cast(amount as varchar) || ' is '
            || cast(round(100.0 * vat / amount, 1) as varchar)
            || ' %, not a Swedish rate.' as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from lines
    where vat is not null
      and amount <> 0
      and least(abs(vat), abs(vat - 0.06 * amount), abs(vat - 0.12 * amount),
                abs(vat - 0.25 * amount))
          > greatest(0.05, 0.001 * abs(amount))
),

ended_contracts as (
    select lines.ledger_line_id, max(contracts.end_date) as ended_on,
        max(contracts.contract_id) as contract_id
    from lines
    inner join contracts
        on contracts.supplier_key = lines.supplier_key
        and contracts.end_date < lines.posting_date
    where lines.spend_class = 'addressable'
      and not lines.has_active_contract
    group by lines.ledger_line_id
),

dq13 as (
    select ledger_line_id, 'DQ13' as rule_id,
        'Leverantörens avtal (' || contract_id || ') upphörde ' || cast(ended_on as varchar)
            || ', före bokföringsdatum.' as explanation_sv,
        'The supplier''s contract (' || contract_id || ') ended on ' || cast(ended_on as varchar)
            || ', before the posting date.' as explanation_en,
        cast(null as varchar) as suggested_account,
        cast(null as varchar) as suggested_category_id
    from ended_contracts
),

fired as (
    select * from dq01 union all
    select * from dq02 union all
    select * from dq03 union all
    select * from dq04 union all
    select * from dq05 union all
    select * from dq06 union all
    select * from dq07 union all
    select * from dq08 union all
    select * from dq09 union all
    select * from dq10 union all
    select * from dq11 union all
    select * from dq12 union all
    select * from dq13
),

final as (
    select
        fired.rule_id || ':' || lines.ledger_line_id as exception_id,
        lines.ledger_line_id,
        fired.rule_id,
        rules.rule_name,
        rules.severity,
        lines.period,
        lines.fiscal_year,
        lines.posting_date,
        lines.org_unit_id,
        lines.org_unit_name,
        lines.cost_centre,
        lines.supplier_key,
        lines.supplier_name,
        lines.supplier_id_status,
        lines.verification_id,
        lines.invoice_number,
        lines.account,
        lines.category_id,
        lines.category_level1,
        lines.spend_class,
        lines.amount,
        lines.vat,
        fired.explanation_sv,
        fired.explanation_en,
        fired.suggested_account,
        fired.suggested_category_id,
        lines.source_name,
        batches.file_name as source_file,
        lines.source_line,
        lines.batch_id,
        {{ spendkoll_built_at() }} as built_at
    from fired
    inner join {{ ref('fct_spend') }} as lines on lines.ledger_line_id = fired.ledger_line_id
    inner join rules on rules.rule_id = fired.rule_id
    left join batches on batches.batch_id = lines.batch_id
    where rules.enabled
)

select * from final
