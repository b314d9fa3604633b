{#- The rules as the controller judged them: per rule, the exceptions it
    fired on that the controller decided (the latest decision per exception),
    and the share that were real (confirmed or corrected). Every rule on a line
    shares the line's decision. Rules without a decision yet have decided = 0
    and no precision. -#}
with judged as (
    select
        trim(rule_id) as rule_id,
        decision
    from (
        select
            unnest(string_split(rule_ids, ',')) as rule_id,
            decision
        from {{ ref('dq_exception_status') }}
        where decision is not null
    )
),

counts as (
    select
        rule_id,
        count(*) as decided,
        count(*) filter (where decision = 'confirmed') as confirmed,
        count(*) filter (where decision = 'corrected') as corrected,
        count(*) filter (where decision = 'dismissed') as dismissed
    from judged
    group by rule_id
),

rules as (
    select
        rule_id,
        rule_name
    from {{ ref('dq_rules') }}
    union
    select
        rule_id,
        null
    from counts
    where rule_id not in (select rule_id from {{ ref('dq_rules') }})
),

final as (
    select
        cast(rules.rule_id as varchar) as rule_id,
        cast(rules.rule_name as varchar) as rule_name,
        cast(coalesce(counts.decided, 0) as bigint) as decided,
        cast(coalesce(counts.confirmed, 0) as bigint) as confirmed,
        cast(coalesce(counts.corrected, 0) as bigint) as corrected,
        cast(coalesce(counts.dismissed, 0) as bigint) as dismissed,
        cast((counts.confirmed + counts.corrected) / nullif(counts.decided, 0) as double)
            as precision
    from rules
    left join counts on rules.rule_id = counts.rule_id
)

select * from final
