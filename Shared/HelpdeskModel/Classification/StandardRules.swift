extension ClassificationRules {
    /// The built-in rules: the policy table of DESIGN.md as signals, weights and phrases.
    public static let standardYAML = #"""
        # Evidence in the impact fields counts double; the requester's own view is a small vote
        # that settles close calls but never outweighs evidence.
        weights: { structured: 2.0, text: 1.0, reporter: 0.75 }
        defaultSeverity: minor
        negations: [not, no, never, isnt, arent, wasnt, werent, dont, doesnt, didnt, without, hardly]
        signals:
          serviceDown:
            severity: critical
            criterion: service down or unavailable
            weight: 3
            phrases: [is down, are down, went down, goes down, was down, service down, system down, site down,
                      server down, platform down, app down, application down, portal down, completely down, down for everyone,
                      outage, unavailable, offline, inaccessible, not responding, unreachable, cannot access, cant access,
                      unable to access, cannot log in, cant log in, unable to log in, cannot login, cant login, unable to login,
                      login fails for everyone, 503, total failure]
          operationsDisrupted:
            severity: critical
            criterion: business operations severely disrupted
            weight: 2.5
            phrases: [business stopped, operations stopped, operations halted, cannot operate, cant operate, severely disrupted,
                      production stopped, production is stopped, all work stopped, work has stopped, stopped working for everyone,
                      losing money, losing revenue, cannot process orders, cant process orders, cannot take payments,
                      cant take payments, shut down our, business critical, emergency]
          majorityUsers:
            severity: critical
            criterion: a majority of users impacted
            weight: 2.5
            phrases: [everyone, all users, all of our users, all our users, all staff, all employees, entire company, whole company,
                      entire organization, entire organisation, all customers, all of our customers, majority of users,
                      majority of our users, most users, most of our users, nobody can, no one can, none of our users, all sites,
                      every user]
          noWorkaround:
            severity: critical
            criterion: no workaround
            weight: 1
            phrases: [no workaround, no work around, no known workaround, without a workaround, no way around, no alternative]
          degraded:
            severity: major
            criterion: major functions severely impaired, service degraded
            weight: 1.5
            phrases: [degraded, degradation, very slow, extremely slow, slowness, slow down, timeout, timing out, time out,
                      intermittent, intermittently, failing, fails, failed, broken, not working, doesnt work, does not work,
                      stopped working, crash, crashing, error 500, internal server error, hangs, freezes, data loss, lost data,
                      sync is stuck, reports are wrong]
            except: [broken link, broken links, dead link, link is broken, failed to mention, fails to mention]
          installationsHalted:
            severity: major
            criterion: ongoing installations halted
            weight: 2.5
            phrases: [installation halted, installations halted, installation stopped, installation is blocked,
                      install blocked, installation blocked, deployment blocked, rollout blocked, rollout stopped, upgrade blocked,
                      cannot install, cant install, unable to install, installation fails, installation failed, install fails,
                      upgrade failed, upgrade fails, cannot upgrade, cant upgrade, migration blocked]
          restrictedOperation:
            severity: major
            criterion: operations continue in a restricted fashion
            weight: 1.5
            phrases: [restricted, limited functionality, reduced capacity, partially working, working partially, only some,
                      half of our, manual processing, doing it by hand, by hand for now]
          multipleUsers:
            severity: major
            criterion: multiple users impacted
            weight: 2
            phrases: [several users, multiple users, many users, some users, a number of users, several people, several colleagues,
                      multiple teams, a few teams, our team, whole team, entire team, several customers, many customers,
                      several of our, multiple people, a dozen users]
          temporaryWorkaround:
            severity: major
            criterion: temporary workaround exists
            weight: 1
            phrases: [temporary workaround, workaround for now, temporary fix, for the time being, restarting helps,
                      restart fixes, after a restart, manual workaround, stopgap, stop gap]
          partialLoss:
            severity: minor
            criterion: partial, non-critical loss of function
            weight: 1.5
            phrases: [minor issue, small issue, minor bug, small bug, non critical, not critical, partial loss, one feature,
                      occasionally, sometimes, edge case, rarely, now and then, small problem, slight]
          installationsImpaired:
            severity: minor
            criterion: installations impaired
            weight: 2
            phrases: [installation impaired, installer warning, install warning, installation warning, installation is slow,
                      install is slow, installer is slow, installation takes longer, installation slower]
          lowImpact:
            severity: minor
            criterion: low user impact
            weight: 2
            phrases: [no impact, low impact, little impact, minimal impact, not urgent, no rush, low priority,
                      when you get a chance, nice to have, how do i, how to, is it possible, question about, feature request,
                      would like to know, not blocking, no business impact]
          fewUsers:
            severity: minor
            criterion: low user impact (few users)
            weight: 2
            phrases: [one user, a single user, single user, only me, just me, one of our users, a colleague, one person,
                      only one user, a couple of users, two users, one account]
          longTermWorkaround:
            severity: minor
            criterion: long-term workaround exists but does not scale
            weight: 1
            phrases: [long term workaround, workaround exists, we have a workaround, there is a workaround, can work around,
                      working around it, doesnt scale, does not scale, not scalable, workaround works]
          cosmetic:
            severity: minor
            criterion: cosmetic issue
            weight: 3
            phrases: [typo, typos, cosmetic, misaligned, alignment, wrong color, wrong colour, font, spelling, misspelled,
                      layout, ui glitch, visual glitch, icon, wording, truncated, overlapping text, looks odd, looks wrong]
        docs:
          subjects: [documentation, docs, doc page, kb, kb article, knowledge base, article, help center, help centre,
                     user guide, admin guide, manual, api reference, reference page, tutorial, release notes, readme]
          problems: [typo, typos, wrong, incorrect, outdated, out of date, mistake, error in, errors in, broken link,
                     dead link, missing, inaccurate, misleading, contradicts, obsolete, refers to]
        """#
}
