"""The domain: people, their provider records and how records become one person.

Plain data and pure functions, no I/O: neither GraphQL nor HTTP lives here.
Connectors map provider records to `records.ContactRecord` and writes from
`records.ContactWrite`; `federation` merges records into a `Person` by the
`keys.PersonKey` they share; resolvers and the configuration import from here
and never from each other.

    records     the unified record, write, tag, activity and result types
    keys        normalized emails and companies, `PersonKey`, `AccountKey`
    federation  `Precedence`, `Person` and `merge`
"""
