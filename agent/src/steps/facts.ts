// `facts` step: the full host facts (see ../facts.ts for how they are collected and bounded in time).
import { factsStep } from '@drover/shared';
import { collectFacts } from '../facts.ts';
import { implementStep } from './context.ts';

export const factsImplementation = implementStep(factsStep, async () => collectFacts());
