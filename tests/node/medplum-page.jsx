// Medplum's QuestionnaireForm on a page of its own, for tests/test_fhir_medplum.py, which bundles
// this file with esbuild (tests/support/fhir_tools.py, `medplum_page`) and serves the bundle itself.
// The Medplum client may fetch nothing: every request is refused and remembered (window.fetched),
// and the test fails if there is one. Nothing is kept between pages (MemoryStorage).
import { MantineProvider } from '@mantine/core';
import '@mantine/core/styles.css';
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import { MedplumProvider, QuestionnaireForm } from '@medplum/react';
import '@medplum/react/styles.css';
import { createRoot } from 'react-dom/client';

window.fetched = [];
const medplum = new MedplumClient({
  storage: new ClientStorage(new MemoryStorage()),
  fetch: async (url) => {
    window.fetched.push(String(url));
    throw new Error(`This page has no server (asked for ${url})`);
  },
});
const root = createRoot(document.getElementById('form'));
let shown = 0;

// Shows `questionnaire` in a new form (replacing the one before); the QuestionnaireResponse the
// form gives on submit goes to window.submitted.
window.showQuestionnaire = (questionnaire) => {
  window.submitted = null;
  shown += 1;
  root.render(
    <MantineProvider>
      <MedplumProvider medplum={medplum}>
        <QuestionnaireForm
          key={shown}
          questionnaire={questionnaire}
          onSubmit={(response) => {
            window.submitted = response;
          }}
        />
      </MedplumProvider>
    </MantineProvider>
  );
};
