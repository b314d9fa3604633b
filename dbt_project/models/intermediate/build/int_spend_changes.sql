{#- What the lines this build (re)builds touch, before fct_spend changes:
      * kind 'period': every period (and its fiscal year) with a line added,
        rebuilt or removed, and every period holding another line of one of
        their invoices (an invoice's total decides whether it is small or a
        credit note); the KPI marts recompute these periods only.
    (dq_invoice_exceptions is computed whole and needs no scope.)
    On a full build: every period. Docs: _build__docs.md. -#}
{%- set fct = adapter.get_relation(database=target.database, schema='marts', identifier='fct_spend') -%}
{%- set old = fct is not none and not flags.FULL_REFRESH
              and 'invoice_key' in (adapter.get_columns_in_relation(fct) | map(attribute='name') | list) -%}
with scoped_new as (
    select
        lines.period,
        cast(extract(year from lines.posting_date) as integer) as fiscal_year,
        lines.supplier_key,
        lines.invoice_number,
        lines.posting_date,
        {{ spendkoll_invoice_key('lines') }} as invoice_key
    from {{ ref('stg_ledger__lines') }} as lines
    where {{ spendkoll_in_build_scope('lines') }}
),

{%- if old %}

    scoped_old as (
        select
            lines.period,
            lines.fiscal_year,
            lines.supplier_key,
            lines.invoice_number,
            lines.posting_date,
            lines.invoice_key
        from {{ fct }} as lines
        where {{ spendkoll_in_build_scope('lines') }}
    ),

    invoice_keys as (
        select invoice_key from scoped_new
        union
        select invoice_key from scoped_old
    ),

    same_invoice as (
        select
            period,
            fiscal_year
        from {{ fct }}
        where invoice_key in (select invoice_key from invoice_keys)
    ),
{%- endif %}

periods as (
    select
        period,
        fiscal_year
    from scoped_new
    {%- if old %}
        union
        select
            period,
            fiscal_year
        from scoped_old
        union
        select
            period,
            fiscal_year
        from same_invoice
    {%- endif %}
),

final as (
    select distinct
        'period' as kind,
        period,
        fiscal_year,
        cast(null as varchar) as supplier_key,
        cast(null as varchar) as invoice_number,
        cast(null as date) as first_date,
        cast(null as date) as last_date
    from periods
)

select * from final
