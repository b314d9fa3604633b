{#- One row per flagged line: the rules that agree on it merged into one
    exception for the controller, with a combined score (1 - the product of
    1 - each rule's score: two rules of 0.6 give 0.84), the largest amount at
    stake, and impact = score x amount at stake, the ranking key of the list
    to accounting (dq_accounting_list). -#}
with exceptions as (
    select
        *,
        case severity when 'blocking' then 3 when 'warning' then 2 else 1 end as severity_rank
    from {{ ref('dq_invoice_exceptions') }}
),

merged as (
    select
        exception_id,
        min(ledger_line_id) as ledger_line_id,
        list(rule_id order by severity_rank desc, score desc, rule_id asc) as ordered_rules,
        count(*) as rule_count,
        (list(rule_id order by severity_rank desc, score desc, rule_id asc))[1] as primary_rule_id,
        (list(rule_name order by severity_rank desc, score desc, rule_id asc))[1]
            as primary_rule_name,
        max(severity_rank) as severity_rank,
        1 - product(1 - least(score, 1.0)) as score,
        max(amount_at_stake) as amount_at_stake,
        (list(explanation_sv order by severity_rank desc, score desc, rule_id asc))[1]
            as primary_explanation_sv,
        (list(explanation_en order by severity_rank desc, score desc, rule_id asc))[1]
            as primary_explanation_en,
        (
            list(suggested_account order by severity_rank desc, score desc, rule_id asc)
            filter (where suggested_account is not null)
        )[1
        ] as suggested_account,
        (
            list(suggested_category_id order by severity_rank desc, score desc, rule_id asc)
            filter (where suggested_category_id is not null)
        )[1
        ] as suggested_category_id
    from exceptions
    group by exception_id
),

lines as (
    select * from {{ ref('fct_spend') }}
),

batches as (
    select * from {{ ref('stg_loader__batches') }}
),

final as (
    select
        merged.exception_id,
        merged.ledger_line_id,
        lines.period,
        lines.fiscal_year,
        lines.posting_date,
        lines.org_unit_id,
        lines.org_unit_name,
        lines.cost_centre,
        lines.supplier_key,
        lines.supplier_name,
        lines.verification_id,
        lines.invoice_number,
        lines.account,
        lines.category_id,
        lines.spend_class,
        lines.amount,
        lines.vat,
        array_to_string(merged.ordered_rules, ',') as rule_ids,
        cast(merged.rule_count as integer) as rule_count,
        merged.primary_rule_id,
        merged.primary_rule_name,
        case merged.severity_rank when 3 then 'blocking' when 2 then 'warning' else 'info' end
            as severity,
        cast(merged.score as double) as score,
        merged.amount_at_stake,
        cast(round(merged.score * merged.amount_at_stake, 2) as decimal(18, 2)) as impact,
        merged.primary_explanation_sv || case
            when merged.rule_count > 1
                then
                    ' Även: ' || array_to_string(merged.ordered_rules[2:], ', ')
                    || '.'
            else ''
        end as explanation_sv,
        merged.primary_explanation_en || case
            when merged.rule_count > 1
                then
                    ' Also: ' || array_to_string(merged.ordered_rules[2:], ', ')
                    || '.'
            else ''
        end as explanation_en,
        merged.suggested_account,
        merged.suggested_category_id,
        lines.source_name,
        batches.file_name as source_file,
        lines.source_line,
        lines.batch_id,
        {{ spendkoll_built_at() }} as built_at
    from merged
    inner join lines on merged.ledger_line_id = lines.ledger_line_id
    left join batches on lines.batch_id = batches.batch_id
)

select * from final
