// Entry point of both steps: main (inputs → plan → Ansible → runs → summary) and post (cleanup).
import { step } from './step.ts'

await step()
