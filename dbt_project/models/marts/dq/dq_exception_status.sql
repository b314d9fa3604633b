{#- The status of every exception ever listed, from the history of the list
    (snapshot dq_exception_history) and the controller's decisions
    (stg_controller__dq_decisions; the latest decision on an exception wins):

      dismissed  the controller called it a false alarm (it stays dismissed; a
                 changed line is a new exception with a new id)
      resolved   decided corrected; or listed without a decision, or confirmed,
                 and no longer listed (its line was corrected or removed by a
                 re-delivery, or it no longer breaks a rule). resolved_on: the
                 day it left the list, or the corrected decision's date when
                 that came first
      confirmed  a confirmed mis-coding still listed: open until corrected
      new        listed, no decision, first listed in the latest build
      open       listed, no decision, listed in an earlier build too

    The descriptive columns are those of the exception's latest version. -#}
with history as (
    select * from {{ ref('dq_exception_history') }}
),

runs as (
    select
        logged_at,
        row_number() over (order by logged_at desc) as recency
    from {{ ref('int_dq_exception_snapshot_runs') }}
),

previous_build as (
    -- the build before the latest one; none after the first build
    select max(logged_at) as logged_at from runs
    where recency = 2
),

seen as (
    select
        exception_id,
        min(dbt_valid_from) as first_seen_at,
        bool_or(dbt_valid_to is null) as is_listed,
        max(dbt_valid_to) as last_valid_to
    from history
    group by exception_id
),

latest_version as (
    select *
    from history
    qualify row_number() over (partition by exception_id order by dbt_valid_from desc) = 1
),

latest_decision as (
    select *
    from {{ ref('stg_controller__dq_decisions') }}
    qualify row_number() over (
        partition by exception_id
        order by decided_on desc, batch_id desc, source_line desc
    ) = 1
),

classified as (
    select
        seen.exception_id,
        seen.is_listed,
        cast(seen.first_seen_at as date) as first_seen_on,
        case when not seen.is_listed then cast(seen.last_valid_to as date) end as left_list_on,
        d.decision,
        d.decided_on,
        d.comment as decision_comment,
        d.initials as decided_by,
        d.source_file as decision_file,
        d.source_line as decision_line,
        case
            when d.decision = 'dismissed' then 'dismissed'
            when d.decision = 'corrected' then 'resolved'
            when not seen.is_listed then 'resolved'
            when d.decision = 'confirmed' then 'confirmed'
            when seen.first_seen_at > coalesce(
                (select logged_at from previous_build), timestamp '-infinity'
            ) then 'new'
            else 'open'
        end as status
    from seen
    left join latest_decision as d on seen.exception_id = d.exception_id
),

resolved as (
    select
        *,
        -- a decision dated before the exception was first listed counts from then
        case
            when status = 'resolved'
                then
                    greatest(
                        first_seen_on,
                        case
                            when decision = 'corrected' then least(decided_on, left_list_on)
                            else left_list_on
                        end
                    )
        end as resolved_on
    from classified
),

final as (
    select
        c.exception_id,
        c.status,
        c.first_seen_on,
        c.decided_on,
        c.resolved_on,
        cast(date_diff('day', c.first_seen_on, c.resolved_on) as integer) as days_to_resolution,
        c.decision,
        c.decision_comment,
        c.decided_by,
        c.is_listed,
        cast(v.ledger_line_id as varchar) as ledger_line_id,
        cast(v.period as varchar) as period,
        cast(v.posting_date as date) as posting_date,
        cast(v.org_unit_id as varchar) as org_unit_id,
        cast(v.org_unit_name as varchar) as org_unit_name,
        cast(v.supplier_key as varchar) as supplier_key,
        cast(v.supplier_name as varchar) as supplier_name,
        cast(v.invoice_number as varchar) as invoice_number,
        cast(v.verification_id as varchar) as verification_id,
        cast(v.account as varchar) as account,
        cast(v.amount as decimal(18, 2)) as amount,
        cast(v.rule_ids as varchar) as rule_ids,
        cast(v.primary_rule_id as varchar) as primary_rule_id,
        cast(v.severity as varchar) as severity,
        cast(v.score as double) as score,
        cast(v.amount_at_stake as decimal(18, 2)) as amount_at_stake,
        cast(v.impact as decimal(18, 2)) as impact,
        cast(v.explanation_sv as varchar) as explanation_sv,
        cast(v.explanation_en as varchar) as explanation_en,
        cast(v.source_file as varchar) as source_file,
        cast(v.source_line as bigint) as source_line,
        c.decision_file,
        cast(c.decision_line as bigint) as decision_line
    from resolved as c
    inner join latest_version as v on c.exception_id = v.exception_id
)

select * from final
