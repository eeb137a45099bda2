/** The four ticket priorities, and how helpdesk priorities of every shape map onto them. */

export type Priority = 'urgent' | 'high' | 'normal' | 'low'

const WORDS: Record<string, Priority> = {
  critical: 'urgent',
  urgent: 'urgent',
  high: 'high',
  medium: 'normal',
  moderate: 'normal',
  normal: 'normal',
  low: 'low',
  planning: 'low',
}

const NUMBERS: Record<string, Priority> = {
  '1': 'urgent',
  '2': 'high',
  '3': 'normal',
  '4': 'low',
  '5': 'low',
}

/**
 * Maps a helpdesk priority: words (any case), ServiceNow's 1..5, or labels like `2 - High`.
 * Anything else, or nothing, is `normal`.
 *
 * @example toPriority('1 - Critical') // 'urgent'
 */
export function toPriority(value: unknown): Priority {
  if (typeof value === 'number') return NUMBERS[String(value)] ?? 'normal'
  if (typeof value !== 'string') return 'normal'
  const text = value.trim().toLowerCase()
  const label = /^([1-5])(\s*-.*)?$/.exec(text)
  if (label?.[1] !== undefined) return NUMBERS[label[1]] ?? 'normal'
  return WORDS[text] ?? 'normal'
}
