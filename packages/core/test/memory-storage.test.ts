import { MemoryStorage } from '@portcullis/core';
import { storageContract } from '@portcullis/core/testkit';

storageContract('MemoryStorage', { create: (clock) => new MemoryStorage({ now: clock.now }) });
