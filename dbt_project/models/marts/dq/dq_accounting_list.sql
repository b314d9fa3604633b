{#- The list to accounting: the exceptions of severity warning or blocking
    still to act on (not dismissed, not resolved), ranked per org unit and
    month by impact (blocking first), the first
    spendkoll_dq_list_max_per_unit_month of each on the list (`on_list`).
    Everything else stays here and in dq_exception_lines, queryable. -#}
{%- set cap = var('spendkoll_dq_list_max_per_unit_month') -%}
with lines as (
    select * from {{ ref('dq_exception_lines') }}
),

status as (
    select
        exception_id,
        status,
        decided_on,
        decision_comment
    from {{ ref('dq_exception_status') }}
),

candidates as (
    select
        lines.*,
        coalesce(status.status, 'new') as status,
        status.decided_on,
        status.decision_comment
    from lines
    left join status on lines.exception_id = status.exception_id
    where coalesce(status.status, 'new') not in ('dismissed', 'resolved')
),

ranked as (
    select
        *,
        row_number() over (
            partition by org_unit_id, period, severity = 'info'
            order by case severity when 'blocking' then 0 else 1 end, impact desc, exception_id asc
        ) as rank_in_unit_month
    from candidates
),

final as (
    select
        exception_id,
        ledger_line_id,
        period,
        fiscal_year,
        posting_date,
        org_unit_id,
        org_unit_name,
        cost_centre,
        supplier_key,
        supplier_name,
        verification_id,
        invoice_number,
        account,
        category_id,
        spend_class,
        amount,
        vat,
        rule_ids,
        rule_count,
        primary_rule_id,
        primary_rule_name,
        severity,
        score,
        amount_at_stake,
        impact,
        explanation_sv,
        explanation_en,
        suggested_account,
        suggested_category_id,
        source_name,
        source_file,
        source_line,
        batch_id,
        status,
        decided_on,
        decision_comment,
        cast(rank_in_unit_month as integer) as rank_in_unit_month,
        severity <> 'info' and rank_in_unit_month <= {{ cap }} as on_list,
        built_at
    from ranked
)

select * from final
