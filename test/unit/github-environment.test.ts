import { test } from 'node:test'
import assert from 'node:assert/strict'
import { missingProtection, parseProtection } from '../../src/core/github-environment.ts'

// Shapes of GET /repos/{owner}/{repo}/environments/{name} answers.
const reviewers = { type: 'required_reviewers', prevent_self_review: true, reviewers: [{ type: 'User', reviewer: { login: 'alice' } }] }
const branches = { protected_branches: false, custom_branch_policies: true }
const fresh = { name: 'preview', protection_rules: [], deployment_branch_policy: null }

test('parseProtection reads required reviewers and the deployment branch policy', () => {
  const cases: [unknown, { requiredReviewers: boolean; branchPolicy: boolean }][] = [
    [fresh, { requiredReviewers: false, branchPolicy: false }],
    [{ protection_rules: [reviewers], deployment_branch_policy: null }, { requiredReviewers: true, branchPolicy: false }],
    [{ protection_rules: [{ type: 'wait_timer', wait_timer: 30 }], deployment_branch_policy: branches }, { requiredReviewers: false, branchPolicy: true }],
    [{ protection_rules: [{ type: 'branch_policy' }, reviewers], deployment_branch_policy: { protected_branches: true, custom_branch_policies: false } }, { requiredReviewers: true, branchPolicy: true }],
    // A reviewers rule that names nobody, and malformed answers, protect nothing.
    [{ protection_rules: [{ type: 'required_reviewers', reviewers: [] }] }, { requiredReviewers: false, branchPolicy: false }],
    [{}, { requiredReviewers: false, branchPolicy: false }],
    [null, { requiredReviewers: false, branchPolicy: false }],
    [{ protection_rules: 'required_reviewers', deployment_branch_policy: 'main' }, { requiredReviewers: false, branchPolicy: false }],
  ]
  for (const [body, expected] of cases) assert.deepEqual(parseProtection(body), expected, JSON.stringify(body))
})

test('missingProtection: preview needs reviewers, production a branch policy, others one of the two', () => {
  const none = { requiredReviewers: false, branchPolicy: false }
  const onlyReviewers = { requiredReviewers: true, branchPolicy: false }
  const onlyBranches = { requiredReviewers: false, branchPolicy: true }
  const both = { requiredReviewers: true, branchPolicy: true }
  const cases: [string, typeof none, string | undefined][] = [
    ['preview', none, 'no required reviewers'],
    ['preview', onlyBranches, 'no required reviewers'],
    ['preview', onlyReviewers, undefined],
    ['production', none, 'no deployment branch policy'],
    ['production', onlyReviewers, 'no deployment branch policy'],
    ['production', onlyBranches, undefined],
    ['production', both, undefined],
    ['staging', none, 'neither required reviewers nor a deployment branch policy'],
    ['staging', onlyReviewers, undefined],
    ['staging', onlyBranches, undefined],
  ]
  for (const [environment, p, expected] of cases) assert.equal(missingProtection(environment, p), expected, `${environment} ${JSON.stringify(p)}`)
})
