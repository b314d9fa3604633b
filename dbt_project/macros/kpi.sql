{#- Shared KPI arithmetic. Every macro here is plain ANSI SQL (case, sum, count
    distinct, cast, round, nullif) so the KPI models run unchanged on DuckDB
    and PostgreSQL. Definitions: models/marts/kpi/_kpi__docs.md. -#}

{% macro money(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}

{#- 100 * num / den, two decimals; null when the denominator is zero. -#}
{% macro pct(num, den) -%}
    cast(round(100.0 * ({{ num }}) / nullif({{ den }}, 0), 2) as decimal(9, 2))
{%- endmacro %}

{#- Sum of amount over the lines where cond holds. -#}
{% macro sum_if(cond, expr='amount') -%}
    {{ money("sum(case when " ~ cond ~ " then " ~ expr ~ " else 0 end)") }}
{%- endmacro %}

{#- The additive spend measures and the distinct counts of one KPI row, over
    spendkoll_kpi_lines(). -#}
{% macro spend_kpi_aggregates() -%}
    {{ money('sum(amount)') }} as spend,
        {{ sum_if("spend_class = 'addressable'") }} as addressable_spend,
        {{ sum_if("spend_class = 'investment'") }} as investment_spend,
        {{ sum_if("spend_class = 'non_addressable'") }} as non_addressable_spend,
        {{ sum_if("spend_class = 'internal'") }} as internal_spend,
        {{ sum_if("spend_class = 'unclassified'") }} as unclassified_spend,
        {{ sum_if("spend_class = 'addressable' and has_active_contract") }} as contracted_spend,
        {{ sum_if("spend_class = 'addressable' and contract_covers_category") }}
            as category_contracted_spend,
        {{ sum_if("spend_class = 'addressable' and has_on_time_active_contract") }}
            as on_time_contracted_spend,
        {{ sum_if("spend_class = 'addressable' and has_active_contract
                   and contract_procured_by = 'procurement_unit'
                   and not contract_registered_after_purchase") }}
            as procurement_unit_contracted_spend,
        {{ sum_if("spend_class = 'addressable' and not contract_covers_category") }}
            as maverick_spend,
        {{ sum_if("spend_class = 'addressable' and via_ecommerce") }} as ecommerce_spend,
        {{ sum_if("supplier_key is null") }} as spend_without_supplier_id,
        count(*) as lines,
        count(distinct supplier_key) as suppliers,
        count(distinct case when not is_credit_note then invoice_key end) as invoices,
        count(distinct case when is_credit_note then invoice_key end) as credit_notes,
        count(distinct case
            when not is_credit_note
                and invoice_amount < {{ var('spendkoll_small_invoice_limit') }}
            then invoice_key
        end) as small_invoices
{%- endmacro %}

{#- The shares, from the columns spend_kpi_aggregates() made. -#}
{% macro spend_kpi_ratios(rel) -%}
    {{ pct(rel ~ '.contracted_spend', rel ~ '.addressable_spend') }} as supplier_loyalty_pct,
        {{ pct(rel ~ '.category_contracted_spend', rel ~ '.addressable_spend') }}
            as category_compliance_pct,
        {{ pct(rel ~ '.on_time_contracted_spend', rel ~ '.addressable_spend') }}
            as on_time_loyalty_pct,
        {{ pct(rel ~ '.procurement_unit_contracted_spend', rel ~ '.addressable_spend') }}
            as procurement_unit_loyalty_pct,
        {{ pct(rel ~ '.small_invoices', rel ~ '.invoices') }} as small_invoice_share_pct,
        {{ pct(rel ~ '.ecommerce_spend', rel ~ '.addressable_spend') }} as ecommerce_share_pct
{%- endmacro %}

{#- fct_spend with each line's invoice total (over all its lines, in any period)
    and whether that total is a credit (<= 0). On an incremental build only the
    lines of the periods (or fiscal years, partition_col) this build changes:
    those of the lines fct_spend rebuilt or took over in this build and of the
    other lines of their invoices, and those whose number of lines differs from
    what the mart ({{ this }}) counted (lines no longer loaded). -#}
{% macro spendkoll_kpi_lines(partition_col) -%}
    {%- if is_incremental() %}
rebuilt_invoices as (
    select distinct invoice_key from {{ ref('fct_spend') }}
    where built_at = {{ spendkoll_built_at() }}
),

line_counts as (
    select {{ partition_col }}, count(*) as lines
    from {{ ref('fct_spend') }}
    group by {{ partition_col }}
),

counted as (
    select {{ partition_col }}, sum(lines) as lines
    from {{ this }}
    group by {{ partition_col }}
),

changed as (
    select {{ partition_col }} from {{ ref('fct_spend') }}
    where invoice_key in (select rebuilt_invoices.invoice_key from rebuilt_invoices)
    union
    select line_counts.{{ partition_col }}
    from line_counts
    left join counted
        on line_counts.{{ partition_col }} = counted.{{ partition_col }}
    where line_counts.lines is distinct from counted.lines
),
    {%- endif %}

spend as (
    select * from {{ ref('fct_spend') }} as spend
    {%- if is_incremental() %}
    where spend.{{ partition_col }} in (select changed.{{ partition_col }} from changed)
    {%- endif %}
),

invoices as (
    select invoice_key, sum(amount) as invoice_amount
    from {{ ref('fct_spend') }}
    {%- if is_incremental() %}
    where invoice_key in (select invoice_key from spend)
    {%- endif %}
    group by invoice_key
),

lines as (
    select
        spend.*,
        invoices.invoice_amount,
        invoices.invoice_amount <= 0 as is_credit_note
    from spend
    inner join invoices
        on invoices.invoice_key = spend.invoice_key
)
{%- endmacro %}
