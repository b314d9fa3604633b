-- DQ15: a payment (a line with a positive amount, any spend class) to a
-- supplier that Bolagsverket's register shows deregistered before the posting
-- date, or declared bankrupt before it (a KK procedure started before the
-- posting date and not ended on or before it; a bankruptcy ended by being
-- lifted or concluded counts only up to its end). Strictly before: a line
-- posted on the day itself does not fire. Blocking by default (seed
-- dq_rules): the money may go to a company that no longer exists, or should
-- go to the bankruptcy estate. Never fires on a sole trader (the register's
-- status of a person is not used) nor without register files.
with register as (
    select * from {{ ref('int_supplier_register_combined') }}
    where
        deregistration_date is not null
        or bankruptcy_started_on is not null
),

lines as (
    select
        spend.ledger_line_id,
        spend.amount,
        spend.posting_date,
        coalesce(register.deregistration_date < spend.posting_date, false) as deregistered_before,
        register.deregistration_date,
        register.deregistration_reason,
        register.bankruptcy_started_on
    from {{ ref('fct_spend') }} as spend
    inner join register on spend.supplier_key = register.supplier_key
    where
        spend.amount > 0
        and (
            register.deregistration_date < spend.posting_date
            or (
                register.bankruptcy_started_on < spend.posting_date
                and (
                    register.bankruptcy_ended_on is null
                    or spend.posting_date < register.bankruptcy_ended_on
                )
                and not (register.bankruptcy_ended and register.bankruptcy_ended_on is null)
            )
        )
),

described as (
    select
        ledger_line_id,
        amount,
        posting_date,
        case when deregistered_before then deregistration_date else bankruptcy_started_on end
            as event_date,
        case
            when not deregistered_before then 'försattes i konkurs'
            when deregistration_reason = 'bankruptcy' then 'avregistrerades efter konkurs'
            when deregistration_reason = 'liquidation' then 'avregistrerades efter likvidation'
            when deregistration_reason = 'merger' then 'avregistrerades efter fusion'
            else 'avregistrerades'
        end as event_sv,
        case
            when not deregistered_before then 'was declared bankrupt'
            when deregistration_reason = 'bankruptcy' then 'was deregistered after bankruptcy'
            when deregistration_reason = 'liquidation' then 'was deregistered after liquidation'
            when deregistration_reason = 'merger' then 'was deregistered after a merger'
            else 'was deregistered'
        end as event_en,
        case
            when not deregistered_before or deregistration_reason = 'bankruptcy'
                then 'en betalning ska gå till konkursboet, inte till bolaget'
            when deregistration_reason = 'merger'
                then 'fakturan ska komma från det övertagande bolaget'
            else 'bolaget finns inte längre: kontrollera vem som ska ha betalningen'
        end as advice_sv,
        case
            when not deregistered_before or deregistration_reason = 'bankruptcy'
                then 'a payment goes to the bankruptcy estate, not to the company'
            when deregistration_reason = 'merger'
                then 'the invoice should come from the absorbing company'
            else 'the company no longer exists: check who is to be paid'
        end as advice_en
    from lines
)

select
{{ dq_rule_output('DQ15', '1.0', 'amount',
    "'event_sv', event_sv, 'event_en', event_en,
     'advice_sv', advice_sv, 'advice_en', advice_en,
     'event_date', cast(event_date as varchar),
     'posting_date', cast(posting_date as varchar)") }}
from described
